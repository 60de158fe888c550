"""Type inference: the types of maps and locals, found by lowering the program quietly until
the types stop changing (ply's bounded fixed point). A map read before the store that types
it sees int64 in the first round and the right type in the next one."""
from __future__ import annotations

from btc.diagnostics import ErrorCollector
from btc.ir.env import Env, Tables
from btc.ir.lower import Lowerer
from btc.ir.probe_info import ProbeFacts
from btc.ir.symbols import SymbolTable
from btc.parser import ast

MAX_ROUNDS = 8  # types only widen, so this is reached only by a bug


def infer(prog: ast.Program, symbols: SymbolTable, facts: list[list[ProbeFacts]],
          params: list[str] | None) -> Env:
    env = Env()
    for _ in range(MAX_ROUNDS):
        before = env.snapshot()
        Lowerer(prog, symbols, env, Tables(), ErrorCollector(), False, params).lower_rules(facts)
        if env.snapshot() == before:
            break
    return env
