"""Stripe's cursor pagination over a newest-first list: ``limit``, ``starting_after``,
``ending_before``."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from gateway.providers.stripe_like.simulator.errors import ApiError, missing_customer

T = TypeVar("T")


def paginate(
    items: Sequence[T],
    id_of: Callable[[T], str],
    include: Callable[[T], bool],
    *,
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
    positions: Mapping[str, int] | None = None,
    missing: Callable[[str, str, int], ApiError] = missing_customer,
) -> tuple[list[T], bool]:
    """One page of a newest-first list and whether more lie beyond it.

    Cursors are placed by position in the full list (so a cursor naming a record that the filter
    hides, or one deleted since, still works); ``include`` filters what is returned. With
    ``positions`` (every id's place in the full list) ``items`` may be any in-order part of that
    list that holds every record ``include`` accepts, e.g. an index's candidates. ``missing``
    builds the error for a cursor naming nothing (``(id, param, status)``).
    """
    if starting_after is not None and ending_before is not None:
        raise ApiError(
            400,
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    if positions is None:
        positions = {}
        for i, item in enumerate(items):
            positions.setdefault(id_of(item), i)
    places = positions

    def position(cursor: str, param: str) -> int:
        place = places.get(cursor)
        if place is None:
            raise missing(cursor, param, 400)
        return place

    def place_of(item: T) -> int:
        return places[id_of(item)]

    if ending_before is not None:
        cut = bisect.bisect_left(items, position(ending_before, "ending_before"), key=place_of)
        before: list[T] = []
        for i in range(cut - 1, -1, -1):
            item = items[i]
            if include(item):
                before.append(item)
                if len(before) > limit:
                    break
        has_more = len(before) > limit
        return before[:limit][::-1], has_more
    start = 0
    if starting_after is not None:
        start = bisect.bisect_right(items, position(starting_after, "starting_after"), key=place_of)
    page: list[T] = []
    for i in range(start, len(items)):
        item = items[i]
        if include(item):
            if len(page) == limit:
                return page, True
            page.append(item)
    return page, False
