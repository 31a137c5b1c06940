"""The allocator setting: after a large block is freed, the next ones still get mappings of
their own, given back to the system when freed, instead of growing a heap that keeps them."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import textwrap

import pytest

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)

# In a child process: the setting is for the whole process and cannot be undone.
PROBE = textwrap.dedent(
    """
    import ctypes, json, sys
    from viewer.allocator import map_large_blocks

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                    "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo2.restype = MallInfo2
    applied = map_large_blocks() if sys.argv[1] == "set" else None
    # A photo's bytes, read whole for a decode, then freed: glibc would now raise its mmap
    # threshold to this size, and its trim threshold to twice that.
    libc.free(libc.malloc(4 * 2**20))
    mapped = libc.mallinfo2().hblkhd
    block = libc.malloc(2 * 2**20)  # the next photo's, a little smaller
    grown = libc.mallinfo2().hblkhd - mapped
    libc.free(block)
    print(json.dumps({"applied": applied, "mapped": grown,
                      "after_free": libc.mallinfo2().hblkhd - mapped}))
    """
)


def probe(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


@glibc
def test_a_large_block_freed_leaves_the_next_ones_mapped_and_returned() -> None:
    result = probe("set")
    assert result["applied"] is True
    assert result["mapped"] >= 2 * 2**20  # a mapping of its own
    assert result["after_free"] == 0  # unmapped: back to the system at once


@glibc
def test_without_the_setting_the_next_block_grows_a_heap() -> None:
    # What the setting is for: glibc's own adjustment after the free.
    assert probe("keep")["mapped"] == 0
