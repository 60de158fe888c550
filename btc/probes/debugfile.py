"""Where a stripped ELF file's symbols are: its separate debug file (Debian's -dbg packages,
e.g. libc6-dbg), found the way gdb finds it. Used for uprobe symbols and for usym/ustack."""
from __future__ import annotations

import os

_DEBUG_ROOT = "/usr/lib/debug"


def debug_file(path: str, elf) -> str | None:
    """The separate debug file of a stripped binary, where gdb looks for it: by build id
    (/usr/lib/debug/.build-id/xx/rest.debug), then by .gnu_debuglink name."""
    note = elf.get_section_by_name(".note.gnu.build-id")
    for n in note.iter_notes() if note is not None else ():
        if n["n_type"] == "NT_GNU_BUILD_ID":
            bid = n["n_desc"]
            cand = os.path.join(_DEBUG_ROOT, ".build-id", bid[:2], bid[2:] + ".debug")
            if os.path.isfile(cand):
                return cand
    link = elf.get_section_by_name(".gnu_debuglink")
    if link is None:
        return None
    name = link.data().split(b"\0", 1)[0].decode(errors="replace")
    where = os.path.dirname(os.path.realpath(path))
    for cand in (os.path.join(where, ".debug", name), _DEBUG_ROOT + os.path.join(where, name)):
        if os.path.isfile(cand) and cand != os.path.realpath(path):
            return cand
    return None
