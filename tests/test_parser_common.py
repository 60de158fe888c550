"""Parser: constructs shared by both dialects, the seed examples, the grammar tables."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from btc.diagnostics import BtcError, Span
from btc.parser import ast, parse, tables
from btc.parser.transform import ToAst
from parser_util import BI, C, I, M, S, V, B, body, expr, program, stmt

DIALECTS = ("btrace", "bpftrace")
EXAMPLES = sorted(Path("/work/shared/seed/examples").glob("*.bt"))


# ------------------------------------------------------------------ seed examples


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_seed_examples_parse(path, dialect):
    prog = parse(path.read_text(), str(path), dialect)
    assert prog.rules and prog.dialect == dialect
    assert all(r.span.file == str(path) for r in prog.rules)


def test_readlatency_tree():
    src = Path("/work/shared/seed/examples/readlatency.bt").read_text()
    prog = parse(src, "readlatency.bt", "btrace")
    assert [p.text for r in prog.rules for p in r.probes] == [
        "syscall:read:entry", "syscall:read:return", "END"]
    assert prog.rules[1].filter == M("start", BI("tid"))
    assert prog.rules[1].body.stmts == (
        ast.Assign(target=M("times"), value=C("hist", B("-", BI("nsecs"), M("start", BI("tid"))))),
        ast.ExprStmt(expr=C("delete", M("start", BI("tid")))),
    )
    assert prog.rules[2].body.stmts == (ast.ExprStmt(expr=C("clear", M("start"))),)


def test_syscalls_by_process_tree():
    src = Path("/work/shared/seed/examples/syscalls-by-process.bt").read_text()
    rule = parse(src, "x.bt", "bpftrace").rules[0]
    assert rule.probes[0].text == "tracepoint:raw_syscalls:sys_enter"
    assert rule.body.stmts == (ast.Assign(target=M("", BI("comm"), BI("arg0")), value=C("count")),)


# ------------------------------------------------------------------ program structure


@pytest.mark.parametrize("dialect", DIALECTS)
def test_probes_kept_verbatim(dialect):
    specs = [
        "BEGIN", "END", "begin", "end", "syscall:read:entry", "syscall:exit:return",
        "tracepoint:sched:sched_switch", "t:syscalls:sys_enter_*", "rawtracepoint:sched_switch",
        "rt:x", "profile:hz:99", "profile:s:1", "profile:ms:10", "profile:us:100", "p:hz:97",
        "interval:s:1", "i:ms:100", "uprobe:/bin/bash:readline", "u:/lib/libc.so.6:0x1234",
        "uprobe:/bin/bash:readline+0x10", "uretprobe:/bin/bash:readline", "ur:libc:malloc",
        "kprobe:vfs_read", "k:vfs_*", "kprobe:vfs_read+16", "kretprobe:vfs_read", "kr:f",
        "fentry:vfs_read", "fexit:vfs_read", "kfunc:vfs_read", "kretfunc:x", "f:x", "fr:x",
        "software:cpu-clock:100000", "s:faults:1", "hardware:cache-misses:1000000", "h:x:1",
        "usdt:/usr/bin/python3:python:function__entry", "U:/p:x", "kprobe:f?o*",
        "uprobe:$1:main", "kprobe:mod:func", "kprobe:fn.isra.0",
    ]
    for spec in specs:
        rule = program(f"{spec} {{ }}", dialect).rules[0]
        assert [p.text for p in rule.probes] == [spec]
        assert rule.probes[0].span.col == 1
        assert rule.probes[0].span.end_col == 1 + len(spec)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_probe_list_shares_action(dialect):
    prog = program("kprobe:a, kprobe:b,\n  kprobe:c /pid/ { exit() }", dialect)
    rule = prog.rules[0]
    assert [p.text for p in rule.probes] == ["kprobe:a", "kprobe:b", "kprobe:c"]
    assert rule.probes[2].span == Span("btc" if dialect == "btrace" else "stdin", 2, 3, 2, 11)
    assert rule.filter == BI("pid")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_empty_action_and_several_rules(dialect):
    prog = program("BEGIN { }\nEND {}\nprofile:hz:1{}", dialect)
    assert [r.probes[0].text for r in prog.rules] == ["BEGIN", "END", "profile:hz:1"]
    assert all(r.body.stmts == () for r in prog.rules)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_comments_and_shebang(dialect):
    src = "#!/usr/sbin/btrace\n// line\nBEGIN /* inline */ { // x\n /* multi\nline */ @x = 1 }\n"
    assert body(src, dialect) == (ast.Assign(target=M("x"), value=I(1)),)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_filter_division_and_end(dialect):
    rule = program("kprobe:f / $1 / 2 == 1 / { }", dialect).rules[0]
    assert rule.filter.op == "=="
    assert rule.filter.lhs == B("/", ast.Positional(index=1), I(2))
    # A closing `/` may be followed by the next `/` of a comment or by spaces then `{`.
    assert program("kprobe:f /pid/\n\n{ }", dialect).rules[0].filter == BI("pid")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_preamble_and_config(dialect):
    src = ("#include <linux/sched.h>\n#define X 1\nstruct foo { int a; struct { int b; } c; };\n"
           "config = { max_map_keys = 100; stack_mode = perf; max_strlen = \"x\" }\n"
           "BEGIN { }")
    prog = program(src, dialect)
    assert [d.text for d in prog.preamble] == [
        "#include <linux/sched.h>", "#define X 1",
        "struct foo { int a; struct { int b; } c; };"]
    assert prog.preamble[2].span.line == 3
    assert prog.config == (ast.ConfigItem(name="max_map_keys", value=100),
                           ast.ConfigItem(name="stack_mode", value="perf"),
                           ast.ConfigItem(name="max_strlen", value="x"))


# ------------------------------------------------------------------ statements


@pytest.mark.parametrize("dialect", DIALECTS)
def test_assignments(dialect):
    assert stmt("$x = 1", dialect) == ast.Assign(target=V("x"), value=I(1))
    assert stmt("@x = 1", dialect) == ast.Assign(target=M("x"), value=I(1))
    assert stmt("@ = 1", dialect) == ast.Assign(target=M(""), value=I(1))
    assert stmt("@[1] = 1", dialect) == ast.Assign(target=M("", I(1)), value=I(1))
    assert stmt("@x[pid, comm] = count()", dialect) == ast.Assign(
        target=M("x", BI("pid"), BI("comm")), value=C("count"))
    assert stmt("@h = lhist($1, 0, 100, 10)", dialect).value == C(
        "lhist", ast.Positional(index=1), I(0), I(100), I(10))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_incdec_and_compound_assignment(dialect):
    assert stmt("@x++", dialect) == ast.ExprStmt(
        expr=ast.IncDec(target=M("x"), op="++", prefix=False))
    assert stmt("$y--", dialect).expr == ast.IncDec(target=V("y"), op="--", prefix=False)
    for op in ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"):
        assert stmt(f"@c[1] {op}= 2", dialect) == ast.CompoundAssign(
            target=M("c", I(1)), op=op, value=I(2))
    assert expr("$i++", dialect) == ast.IncDec(target=V("i"), op="++", prefix=False)
    assert expr("++$i", dialect) == ast.IncDec(target=V("i"), op="++", prefix=True)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_if_else_chain(dialect):
    s = stmt("if (pid == 1) { @a = 1; } else if (pid) { @b = 2; } else { @c = 3; }", dialect)
    assert s.cond == B("==", BI("pid"), I(1))
    assert s.then.stmts == (ast.Assign(target=M("a"), value=I(1)),)
    assert isinstance(s.orelse, ast.If) and s.orelse.cond == BI("pid")
    assert s.orelse.orelse.stmts == (ast.Assign(target=M("c"), value=I(3)),)
    assert stmt("if (1) { }", dialect).orelse is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_loops_and_jumps(dialect):
    u = stmt("unroll(3) { @a = 1; }", dialect)
    assert u == ast.Unroll(count=I(3), body=ast.Block(stmts=(ast.Assign(target=M("a"), value=I(1)),)))
    w = stmt("while ($i < 10) { $i++; if ($i == 5) { break; } continue; }", dialect)
    assert w.cond == B("<", V("i"), I(10))
    assert isinstance(w.body.stmts[1].then.stmts[0], ast.Break)
    assert isinstance(w.body.stmts[2], ast.Continue)
    f = stmt("for ($kv : @m) { print($kv.0); }", dialect)
    assert f == ast.For(var="kv", map=M("m"), body=ast.Block(stmts=(
        ast.ExprStmt(expr=C("print", ast.TupleIndex(expr=V("kv"), index=0))),)))
    assert stmt("return", dialect) == ast.Return()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_let(dialect):
    assert stmt("let $x = 1", dialect) == ast.Let(name="x", value=I(1))
    assert stmt("let $x: uint8 = 1", dialect) == ast.Let(name="x", type_name="uint8", value=I(1))
    assert stmt("let $x;", dialect) == ast.Let(name="x")


# ------------------------------------------------------------------ expressions


@pytest.mark.parametrize("dialect", DIALECTS)
def test_primaries(dialect):
    assert expr("$1", dialect) == ast.Positional(index=1)
    assert expr("$12", dialect) == ast.Positional(index=12)
    assert expr("$#", dialect) == ast.PositionalCount()
    assert expr('"a"', dialect) == S("a")
    assert expr("@m[1, 2]", dialect) == M("m", I(1), I(2))
    assert expr("str($1, 3)", dialect) == C("str", ast.Positional(index=1), I(3))
    assert expr("(1, \"x\", $a)", dialect) == ast.Tuple(elems=(I(1), S("x"), V("a")))
    assert expr("$t.1", dialect) == ast.TupleIndex(expr=V("t"), index=1)
    assert expr("(1)", dialect) == I(1)


BUILTIN_NAMES = ("pid tid comm nsecs cpu uid gid arg0 arg9 retval args probe kstack ustack "
                 "elapsed func cgroup curtask rand cpid ctx username jiffies numaid sarg0").split()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_builtins_and_identifiers(dialect):
    for name in BUILTIN_NAMES:
        assert expr(name, dialect) == BI(name)
    assert expr("kstack(perf, 3)", dialect) == C("kstack", ast.Ident(name="perf"), I(3))
    assert expr("nsecs(monotonic)", dialect) == C("nsecs", ast.Ident(name="monotonic"))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_bpftrace_expression_forms(dialect):
    assert expr("(uint32)arg0", dialect) == ast.Cast(type_name="uint32", expr=BI("arg0"))
    assert expr("(struct task_struct *)curtask", dialect) == ast.Cast(
        type_name="struct task_struct *", expr=BI("curtask"))
    assert expr("(int8 **)$p", dialect).type_name == "int8 **"
    assert expr("(uint8[4])$p", dialect).type_name == "uint8[4]"
    assert expr("curtask->parent->pid", dialect) == ast.Field(
        expr=ast.Field(expr=BI("curtask"), name="parent", arrow=True), name="pid", arrow=True)
    assert expr("args.filename", dialect) == ast.Field(expr=BI("args"), name="filename")
    assert expr("$a[3]", dialect) == ast.Index(expr=V("a"), index=I(3))
    assert expr("args.argv[0]", dialect).expr == ast.Field(expr=BI("args"), name="argv")
    assert expr("sizeof(uint64)", dialect) == ast.Sizeof(type_name="uint64")
    assert expr("sizeof($x)", dialect) == ast.Sizeof(expr=V("x"))
    assert expr("offsetof(struct foo, a.b)", dialect) == ast.Offsetof(
        fields=("a", "b"), type_name="struct foo")
    assert expr("$a ? 1 : 2", dialect) == ast.Ternary(cond=V("a"), then=I(1), orelse=I(2))
    assert expr("!$a", dialect) == ast.Unary(op="!", operand=V("a"))
    assert expr("~$a", dialect) == ast.Unary(op="~", operand=V("a"))
    assert expr("*$a", dialect) == ast.Unary(op="*", operand=V("a"))
    assert expr("-$a", dialect) == ast.Unary(op="-", operand=V("a"))
    assert expr("-5", dialect) == I(-5)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_integer_literals(dialect):
    assert expr("0x1f", dialect) == I(31)
    assert expr("017", dialect) == I(15)
    assert expr("0", dialect) == I(0)
    assert expr("9223372036854775807", dialect) == I(2**63 - 1)


# ------------------------------------------------------------------ precedence (§5.1)


PRECEDENCE = [
    # expression, bpftrace tree, btrace tree
    ("3 == 1 + 2", B("==", I(3), B("+", I(1), I(2))), B("+", B("==", I(3), I(1)), I(2))),
    ("$a & 1 == 1", B("&", V("a"), B("==", I(1), I(1))), B("==", B("&", V("a"), I(1)), I(1))),
    ("1 || 0 && 0", B("||", I(1), B("&&", I(0), I(0))), B("&&", B("||", I(1), I(0)), I(0))),
    ("2 + 3 * 4 + 3", B("+", B("+", I(2), B("*", I(3), I(4))), I(3)),
     B("+", B("+", I(2), B("*", I(3), I(4))), I(3))),
    ("1 < 2 == 3 > 4", B("==", B("<", I(1), I(2)), B(">", I(3), I(4))),
     B(">", B("==", B("<", I(1), I(2)), I(3)), I(4))),
    ("1 | 2 ^ 3 & 4", B("|", I(1), B("^", I(2), B("&", I(3), I(4)))),
     B("&", B("^", B("|", I(1), I(2)), I(3)), I(4))),
    ("8 - 4 - 2", B("-", B("-", I(8), I(4)), I(2)), B("-", B("-", I(8), I(4)), I(2))),
    ("8 / 4 % 3", B("%", B("/", I(8), I(4)), I(3)), B("%", B("/", I(8), I(4)), I(3))),
    ("1 << 2 + 3", B("<<", I(1), B("+", I(2), I(3))), B("+", B("<<", I(1), I(2)), I(3))),
]


@pytest.mark.parametrize("text,bpftrace,btrace", PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_precedence(text, bpftrace, btrace):
    assert expr(text, "bpftrace") == bpftrace
    assert expr(text, "btrace") == btrace


def test_ternary_is_lowest_and_right_assoc():
    for d in DIALECTS:
        e = expr("$a || $b ? 1 : $c ? 2 : 3", d)
        assert e == ast.Ternary(cond=B("||", V("a"), V("b")), then=I(1),
                                orelse=ast.Ternary(cond=V("c"), then=I(2), orelse=I(3)))


def test_unary_binds_tighter_than_binary():
    for d in DIALECTS:
        assert expr("-$a * 2", d) == B("*", ast.Unary(op="-", operand=V("a")), I(2))
        assert expr("(uint8)$a + 1", d) == B("+", ast.Cast(type_name="uint8", expr=V("a")), I(1))


# ------------------------------------------------------------------ spans


def test_spans_cover_source_text():
    src = 'BEGIN { @x[pid] = count(); printf("%d\\n", 1 + 2); }'
    prog = program(src, "bpftrace")
    assign, call = prog.rules[0].body.stmts
    def text(node):
        return src[node.span.col - 1: node.span.end_col - 1]
    assert text(assign) == "@x[pid] = count()"
    assert text(assign.target) == "@x[pid]"
    assert text(assign.value) == "count()"
    assert text(call.expr) == 'printf("%d\\n", 1 + 2)'
    assert text(call.expr.args[1]) == "1 + 2"
    assert text(prog.rules[0].body) == src[6:]
    assert prog.rules[0].span == Span("stdin", 1, 1, 1, len(src) + 1)


def test_spans_multiline_and_filename():
    src = "kprobe:f\n/pid/\n{\n\t$x = (1,\n 2);\n}\n"
    prog = parse(src, "prog.bt", "bpftrace")
    tup = prog.rules[0].body.stmts[0].value
    assert tup.span == Span("prog.bt", 4, 7, 5, 4)
    assert prog.rules[0].filter.span == Span("prog.bt", 2, 2, 2, 5)


# ------------------------------------------------------------------ API and grammar


def test_unknown_dialect_is_btc_error():
    with pytest.raises(BtcError, match="unknown dialect"):
        parse("BEGIN {}", "x", "dtrace")


def test_program_keeps_source_and_dialect():
    prog = parse("BEGIN {}", "x", "bpftrace")
    assert prog.source == "BEGIN {}" and prog.dialect == "bpftrace"
    assert parse("", "x", "btrace").rules == ()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_tables_match_grammar(dialect):
    """grammar/tables.json must be regenerated (python -m btc.parser.tables) after edits."""
    data = json.loads(Path(tables.GENERATED).read_text())
    assert data[dialect]["sha"] == tables.grammar_sha(dialect)
    states, rules, _, _ = tables.build(dialect)  # lark, strict=True: no conflicts
    # lark numbers states in set order (varies between runs), so compare shapes only
    assert len(states) == len(data[dialect]["states"])
    assert json.loads(json.dumps(rules)) == data[dialect]["rules"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_rule_has_a_transformer_method(dialect):
    _, rules, _, _ = tables.build(dialect)
    for origin, _size, callback, _expand1, _plan, _nones in rules:
        if callback is not None and not callback.startswith("$"):
            assert hasattr(ToAst, callback) or _expand1, (origin, callback)
