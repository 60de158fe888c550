"""The IR and AST printers used by `--emit ir` / `--emit ast`."""
from btc.ir.ast_printer import format_ast
from btc.ir.printer import format_program
from ir_util import analyze_src, parse_src


def test_ir_printer_shows_every_type_and_declaration():
    prog = analyze_src('syscall:read:entry /pid == $1/ { @s[tid] = nsecs; printf("%s\\n", comm) }',
                       params=["1"])
    text = format_program(prog)
    assert "map @s: key int64 -> value int64 max_entries=4096 print_at_exit" in text
    assert 'printf #0 "%s\\n" (string[16])' in text
    assert "param $1: int64" in text
    assert "filter (== (cast pid:uint32):uint64 $1:int64):int64" in text
    assert "@s[(cast tid:uint32):int64] = (cast nsecs@realtime:uint64):int64" in text
    assert text.endswith("\n")


def test_ast_printer():
    text = format_ast(parse_src("BEGIN { @x[1] = count() }"))
    lines = text.splitlines()
    assert lines[0].startswith("Program dialect='btrace'")
    assert any(l.strip().startswith("Probe text='BEGIN'  @1:1-1:6") for l in lines)
    assert any(l.strip() == "Call name='count'  @1:17-1:24" for l in lines)
