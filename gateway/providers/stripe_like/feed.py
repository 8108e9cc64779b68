"""Customer changes from a Stripe-style ``/v1/events`` list, oldest first (the ``ChangeFeed``).

Stripe lists events newest first and keeps them **30 days**. The feed reads forwards with
``ending_before=<last event id seen>``: Stripe answers the ``limit`` events just after that one
(still newest first), which are reversed, so one call per page, whatever the backlog. With no
cursor the feed starts at the oldest event still listed: it pages backwards with
``starting_after`` to the end of the list (one call per 100 events) and returns the oldest
``limit``. A cursor older than the retention window is answered 400 ``resource_missing`` by
Stripe: that :class:`~gateway.errors.ProviderError` (``bad_request``) tells the sync to
backfill again.

Only ``customer.created``/``updated``/``deleted`` are asked for (``types[]``), not ``customer.*``,
whose wildcard also matches ``customer.subscription.*``, ``customer.source.*`` and others whose
object is not a customer: they would only cost pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from gateway.model import ChangeEvent, ChangeKind, CustomerRecord, EventPage
from gateway.providers import coerce

if TYPE_CHECKING:
    from gateway.providers.stripe_like.adapter import StripeLikeAdapter

EVENTS: Final = "/v1/events"
CUSTOMER_EVENTS: Final[Mapping[str, ChangeKind]] = {
    "customer.created": ChangeKind.CREATED,
    "customer.updated": ChangeKind.UPDATED,
    "customer.deleted": ChangeKind.DELETED,
}
EVENT_PAGE: Final = 100
"""Stripe's largest ``limit``."""
MAX_BACKLOG_PAGES: Final = 2000
"""Pages the first read may walk to find the oldest event (200,000 events) before giving up."""

Parse = Callable[[Mapping[str, Any]], CustomerRecord]


def change_event(provider: str, parse: Parse, event: Any) -> ChangeEvent | None:
    """A customer event as a :class:`ChangeEvent` (``None`` for any other event).

    ``customer.deleted`` carries the customer as it was; its record is marked deleted (fields
    kept, so the index can still explain what it removes). ``occurred_at`` is ``created``.
    """
    if not isinstance(event, Mapping):
        return None
    kind = CUSTOMER_EVENTS.get(str(event.get("type")))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    occurred = coerce.unix_datetime(event.get("created"))
    event_id = event.get("id")
    if (
        kind is None
        or not isinstance(obj, Mapping)
        or obj.get("object", "customer") != "customer"
        or not isinstance(obj.get("id"), str)
        or occurred is None
        or not isinstance(event_id, str)
    ):
        return None
    record = parse(obj)
    if kind is ChangeKind.DELETED and not record.deleted:
        record = replace(record, deleted=True)
    return ChangeEvent(provider, event_id, kind, record, occurred)


async def read_events(adapter: StripeLikeAdapter, cursor: str | None, limit: int) -> EventPage:
    """:meth:`ChangeFeed.events` for a Stripe-style adapter (see the module docstring)."""
    limit = min(max(limit, 1), EVENT_PAGE)
    if cursor is None:
        page, has_more = await _oldest(adapter, limit)
    else:
        page, has_more = await _list(adapter, [("limit", str(limit)), ("ending_before", cursor)])
    oldest_first = page[::-1]
    events = [
        found
        for event in oldest_first
        if (found := change_event(adapter.name, adapter.to_record, event)) is not None
    ]
    next_cursor = str(oldest_first[-1]["id"]) if oldest_first else None
    return EventPage(events=events, cursor=next_cursor, has_more=has_more)


async def _oldest(adapter: StripeLikeAdapter, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The oldest ``limit`` events (newest first) and whether newer ones exist."""
    seen: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_BACKLOG_PAGES):
        params = [("limit", str(EVENT_PAGE))]
        if after is not None:
            params.append(("starting_after", after))
        data, more = await _list(adapter, params)
        seen = [*seen[-limit:], *data]  # only the tail can hold the oldest
        if not (more and data):
            return seen[-limit:], len(seen) > limit
        after = str(data[-1]["id"])
    raise adapter.bad_response(f"the event list did not end within {MAX_BACKLOG_PAGES} pages")


async def _list(
    adapter: StripeLikeAdapter, params: Sequence[tuple[str, str]]
) -> tuple[list[dict[str, Any]], bool]:
    types = [("types[]", kind) for kind in CUSTOMER_EVENTS]
    body = await adapter.http.request("GET", EVENTS, params=[*types, *params])
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(
        isinstance(item, dict) and isinstance(item.get("id"), str) for item in data
    ):
        raise adapter.bad_response("expected a list of events with ids")
    return data, bool(body.get("has_more"))
