"""Keep freed tensor memory in the process instead of returning it to the kernel.

glibc serves allocations above its mmap threshold with fresh mmap()s and unmaps them on
free, so a loop that allocates and frees the same large tensors every batch page-faults
them in again each time (system time as large as user time). Raising the mmap threshold to
glibc's maximum and the trim threshold far above it lets freed blocks be reused. This is
the in-process equivalent of ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_``; it is a
no-op where the C library is not glibc, or when ``PTYFLOW_ALLOCATOR=default`` (for
benchmarks that measure what it saves).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["tune_allocator"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX_BYTES = 32 * 1024**2  # glibc's upper limit on 64-bit systems
_TRIM_THRESHOLD_BYTES = 1024**3


@functools.cache
def tune_allocator() -> bool:
    """Apply the settings once per process; True if glibc accepted them."""
    name = ctypes.util.find_library("c")
    if name is None or os.environ.get("PTYFLOW_ALLOCATOR") == "default":
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX_BYTES) == 1
    return bool(ok and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES) == 1)
