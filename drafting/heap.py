"""Hand freed heap memory back to the operating system after a large, short-lived allocation.

The web app is long-lived, and glibc keeps the memory a big ingest or a style-profile rebuild freed
(measured: 1× corpus, RSS 305 → 201 MB after an ingest).  ``malloc_trim`` returns it; elsewhere than
glibc it is a no-op.
"""

from __future__ import annotations

import gc


def release_memory() -> None:
    """Collect garbage, then trim glibc's heap (no-op where there is no glibc)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
