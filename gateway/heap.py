"""A serving process's start-up heap, moved out of the cyclic collector's way.

What a gateway process builds before it serves (modules, the Strawberry and graphql-core
schema, SQLAlchemy, OpenTelemetry and Prometheus objects, adapters, the sandbox's datasets)
lives as long as the process, yet CPython's cyclic collector walks all of it on every full
collection, and a request's allocations start those often: a 50-customer page spent over a
quarter of its CPU there (docs/benchmarks.md, "What changed the figures"). ``gc.freeze()``
moves every object alive at that point into a permanent generation the collector skips.
Reference counting still frees them as usual; only garbage cycles among them would stay, and
start-up objects are not garbage. The thresholds stay CPython's: larger ones grew the heap by
~90 MB for no measurable gain.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then freeze the rest; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
