"""A serving process's heap, tuned for the cyclic collector.

Two things, both for ``serve`` only (apps made and dropped, as in tests, keep CPython's
defaults):

- **The start-up heap is frozen.** What a gateway process builds before it serves (modules,
  the Strawberry and graphql-core schema, SQLAlchemy, OpenTelemetry and Prometheus objects,
  adapters, the sandbox's datasets) lives as long as the process, yet CPython's cyclic
  collector walks all of it on every full collection: a 50-customer page once spent over a
  quarter of its CPU there. ``gc.freeze()`` moves every object alive at that point into a
  permanent generation the collector skips. Reference counting still frees them as usual;
  only garbage cycles among them would stay, and start-up objects are not garbage.
- **Young collections are rarer** (:data:`YOUNG_THRESHOLD` allocations apart, not 700). A
  request allocates thousands of objects, and with 16 requests in flight a young collection
  every 700 allocations finds most of them alive: it walks them, promotes them, and the older
  generations then fill with request objects that die there, which is what makes full
  collections frequent. Measured in-process under the page load (docs/benchmarks.md): the
  collector took 2.1-2.6 ms of a page's ~18 ms at 700 and 0.2-0.3 ms at 50,000, for ~14 MB
  more resident memory; a single lookup's share went from ~100 to ~45 µs.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["YOUNG_THRESHOLD", "freeze_startup_heap", "space_young_collections"]

YOUNG_THRESHOLD: Final = 50_000
"""Allocations (net of frees) of tracked objects between two young collections in a serving
process (CPython's default: 700)."""


def freeze_startup_heap() -> int:
    """Collect what start-up left behind, then freeze the rest; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def space_young_collections() -> None:
    """Young collections every :data:`YOUNG_THRESHOLD` allocations; the older generations'
    thresholds stay as they are."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
