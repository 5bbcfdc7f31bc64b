"""How long Polars' allocator keeps freed memory, set before Polars is first imported.

Polars allocates with jemalloc and, at import, sets it to hand freed pages back to the
system after half a second (``dirty_decay_ms:500``) unless ``_RJEM_MALLOC_CONF`` adds
to that. A large batch job frees and allocates gigabytes in that time (each part's
columns, each converted table), so every page handed back is faulted in and zeroed
again: about a million page faults in ten million claims. Keeping freed pages for ten
seconds lets jemalloc reuse them; an idle process still gives them back after that
(docs/performance.md, "The last cuts"). A setting the user made is left alone, and
the call does nothing once Polars is loaded (jemalloc reads it only at start).
"""

from __future__ import annotations

import os
import sys

KEEP_FREED = "dirty_decay_ms:10000,muzzy_decay_ms:10000"
"""jemalloc's options: freed pages kept ten seconds before they are given back."""


def keep_freed_memory() -> None:
    """Ask jemalloc to keep freed pages for a while (before ``import polars`` only)."""
    if "polars" in sys.modules:
        return
    os.environ.setdefault("_RJEM_MALLOC_CONF", KEEP_FREED)
