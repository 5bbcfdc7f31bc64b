"""How long Polars' allocator keeps freed memory, set before Polars is first imported.

Polars allocates with jemalloc and, at import, sets it to hand freed pages back to the
system after half a second (``dirty_decay_ms:500``) unless ``_RJEM_MALLOC_CONF`` adds
to that. A large batch job frees and allocates gigabytes in that time (each part's
columns, each converted table), and a page handed back is faulted in and zeroed again
when next used: a settle of ten million claims took about a million page faults, a
sixth fewer with freed pages kept ten seconds; an idle process still gives them back
after that (docs/performance.md, "Fewer passes in the engine, freed memory kept").
A setting the user made is left alone, and
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
