"""Type inference: the types of maps and locals, found by lowering the program until the
types stop changing (ply's bounded fixed point).

A round widens the Env as it meets stores. A map read before the store that types it sees
int64 in the first round and the right type in the next one. A round in which every lookup
already saw its final type is a correct final lowering (usually the first round): its IR,
tables and errors are returned and no further lowering is needed."""
from __future__ import annotations

from dataclasses import dataclass

from btc.diagnostics import ErrorCollector
from btc.ir import nodes as ir
from btc.ir.env import Env, Tables
from btc.ir.lower import Lowerer
from btc.ir.probe_info import ProbeFacts
from btc.ir.symbols import SymbolTable
from btc.parser import ast

MAX_ROUNDS = 8  # types only widen, so this is reached only by a bug


@dataclass
class Lowered:
    env: Env
    functions: list[ir.Function]
    tables: Tables
    errors: ErrorCollector


def infer_and_lower(prog: ast.Program, symbols: SymbolTable, facts: list[list[ProbeFacts]],
                    params: list[str] | None) -> Lowered:
    env = Env()
    for _ in range(MAX_ROUNDS):
        env.seen.clear()
        tables, errors = Tables(), ErrorCollector()
        functions = Lowerer(prog, symbols, env, tables, errors, False, params).lower_rules(facts)
        if env.converged():
            env.recording = False
            return Lowered(env, functions, tables, errors)
    # Not converged (a bug in a type join): lower once more against the frozen types.
    env.recording = False
    tables, errors = Tables(), ErrorCollector()
    functions = Lowerer(prog, symbols, env, tables, errors, True, params).lower_rules(facts)
    return Lowered(env, functions, tables, errors)
