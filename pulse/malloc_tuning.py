"""glibc malloc settings for the worker's allocation pattern.

Each batch allocates tens of thousands of short-lived buffers (JSON in and out) and frees them
together. With glibc's defaults the freed heap top is returned to the kernel after every batch
and faulted back in on the next one: measured on the benchmark machine, retaining 15,000
`orjson.dumps` results cost 4.2 µs each instead of 0.8 µs, and `normalize` 9.8 µs per message
instead of 6.9 µs (BENCHMARKS.md). Keeping freed memory for reuse trades a bounded amount of RSS
for that.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(trim_threshold_mb: int = 256, top_pad_mb: int = 64, mmap_threshold_mb: int = 32) -> bool:
    """Tell glibc to keep freed memory for reuse; False (and no change) on other C libraries."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mb = 1024 * 1024
    ok = all(mallopt(option, value * mb) == 1 for option, value in (
        (_M_TRIM_THRESHOLD, trim_threshold_mb), (_M_TOP_PAD, top_pad_mb), (_M_MMAP_THRESHOLD, mmap_threshold_mb)))
    if not ok:
        log.info("mallopt refused a setting; keeping the C library's defaults for the rest")
    return ok
