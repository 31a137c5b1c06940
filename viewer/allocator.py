"""The C allocator, set for a process whose memory is mostly a cache of thumbnails.

By default glibc's malloc adjusts itself: when a mapped block (one of 128 KB or more) is freed,
it raises its mmap threshold to that block's size (up to 32 MB) and its trim threshold to
twice that. Every decode reads a photo's bytes whole (1-2 MB for the demo's), so after the
first one such blocks come from the heaps (one per thread that allocates: the decode workers
have their own), and a heap gives memory back to the system only from its top, and only above
the raised trim threshold. Setting the mmap threshold turns the adjustment off: blocks of 64 KB
or more that the free lists cannot serve get mappings of their own, unmapped when freed, and
heaps are trimmed above 128 KB at their top.

Measured with `bench gui --only large` (the 20,000-photo scenarios, 128 MB cache): peak RSS
383 -> 369 MB cold and 374 -> 342 MB warm, one after the other; memory free inside the heaps
at the end of a scroll 31-36 MB -> 8-16 MB (glibc's mallinfo2). docs/PERFORMANCE.md,
2026-12-04.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
# Under a default thumbnail (160 x 120 x 4 = 77 KB), over the interpreter's own small objects
# (its arenas are mapped anyway) and over most of Qt's.
MMAP_THRESHOLD_BYTES = 64 * 1024


def map_large_blocks(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Blocks of `threshold` bytes or more that the free lists cannot serve get mappings of
    their own, and glibc stops adjusting its thresholds; False where the C library has no
    such setting (not glibc, not Linux), which then changes nothing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, threshold))
    if not done:
        log.debug("the C library did not take an mmap threshold of %d bytes", threshold)
    return done
