"""Text form of the AST (`btc compile --emit ast`): one node per line, fields indented, spans
as line:col-line:col. Generic over the dataclasses of btc.parser.ast."""
from __future__ import annotations

import dataclasses

from btc.parser import ast

SKIP = ("span", "source")


def format_ast(node: ast.Node) -> str:
    return "\n".join(_node(node, 0)) + "\n"


def _node(n: ast.Node, depth: int) -> list[str]:
    pad = "  " * depth
    scalars, children = [], []
    for f in dataclasses.fields(n):
        if f.name in SKIP:
            continue
        v = getattr(n, f.name)
        if isinstance(v, ast.Node):
            children.append((f.name, [v]))
        elif isinstance(v, tuple) and any(isinstance(x, ast.Node) for x in v):
            children.append((f.name, list(v)))
        elif v is None or v == ():
            continue
        else:
            scalars.append(f"{f.name}={v!r}")
    head = f"{pad}{type(n).__name__}"
    if scalars:
        head += " " + " ".join(scalars)
    span = n.span
    if span.line:
        head += f"  @{span.line}:{span.col}-{span.end_line}:{span.end_col}"
    out = [head]
    for name, items in children:
        out.append(f"{pad}  .{name}")
        for x in items:
            out.extend(_node(x, depth + 2))
    return out
