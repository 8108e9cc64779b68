"""Many records read by id, most of a provider's with one listing of their creation window.

The identity index keeps each member's last snapshot, and a record's creation time never
changes, so the records of one read wave that a provider holds lie between the earliest and the
latest ``created_at`` of their snapshots. A provider whose customer list filters by creation time
(``capabilities.created_window``, :class:`~gateway.providers.contract.CreatedWindow`) lists that
window once, concurrently with the other providers' by-id loads, and what it lists primes the
request's ID loaders: the by-id loads that follow cost no call for every record the window held.
The rest (deleted since, a snapshot with a wrong time, a window longer than one page) are read by
id as without a window, so a window only ever saves calls. A listing that fails costs only its
own call: the by-id loads then answer, and report a failing provider, exactly as without it.

Windows are listed only where no record cache answers the provider's loads
(:meth:`~gateway.core.loaders.Loaders.uncached`): there by-id loads may cost nothing, and a fresh
read must refresh the cache, which priming one request's loaders does not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from gateway.core.context import RequestContext
from gateway.core.loaders import LookupResult
from gateway.errors import ProviderError
from gateway.model import Lookup, RecordRef
from gateway.providers.contract import CreatedWindow

__all__ = ["MIN_WINDOW_RECORDS", "load_by_id"]

logger = logging.getLogger("customer_gateway.reads")

MIN_WINDOW_RECORDS: Final = 3
"""Fewer records of one provider than this are read by id only: a call or two saved does not
pay for the chance of a second round (what the window misses is read after it)."""


async def load_by_id(
    ctx: RequestContext, refs: Sequence[RecordRef], created: Mapping[RecordRef, datetime]
) -> dict[RecordRef, LookupResult]:
    """Each ref's record read by its provider's id, through windows where they pay.

    ``created``: the known creation time of refs (their snapshots'); refs without one are read
    by id straight away."""
    windows = _windows(ctx, refs, created)
    if not windows:
        return await _loads(ctx, refs)
    windowed = {ref for _, group in windows for ref in group}
    parts = await asyncio.gather(
        _loads(ctx, [ref for ref in refs if ref not in windowed]),
        *(_after_window(ctx, lister, group, created) for lister, group in windows),
    )
    return {ref: result for part in parts for ref, result in part.items()}


def _windows(
    ctx: RequestContext, refs: Sequence[RecordRef], created: Mapping[RecordRef, datetime]
) -> list[tuple[CreatedWindow, list[RecordRef]]]:
    """Per provider worth a window, its lister and the refs the window should hold: known
    creation time, and no answer yet in this request (a re-read after read-repair has most of
    its records already)."""
    groups: dict[str, list[RecordRef]] = {}
    for ref in dict.fromkeys(refs):
        if ref in created and not ctx.loaders.holds(ref.provider, Lookup.ID, ref.id):
            groups.setdefault(ref.provider, []).append(ref)
    windows: list[tuple[CreatedWindow, list[RecordRef]]] = []
    for provider, group in groups.items():
        lister = _lister(ctx, provider)
        enough = len(group) >= MIN_WINDOW_RECORDS
        if lister is not None and enough and ctx.loaders.uncached(provider):
            windows.append((lister, group))
    return windows


def _lister(ctx: RequestContext, provider: str) -> CreatedWindow | None:
    """The provider's adapter when it declares and implements creation windows."""
    adapter = ctx.adapters.get(provider)
    wants = adapter is not None and adapter.capabilities.created_window
    return adapter if wants and isinstance(adapter, CreatedWindow) else None


async def _after_window(
    ctx: RequestContext,
    lister: CreatedWindow,
    refs: Sequence[RecordRef],
    created: Mapping[RecordRef, datetime],
) -> dict[RecordRef, LookupResult]:
    """List the window ``refs`` were created in, prime the loaders with it, then load ``refs``
    (only those it did not hold cost a call)."""
    provider = refs[0].provider
    times = [created[ref] for ref in refs]
    limit = ctx.adapters[provider].capabilities.max_page_size
    try:
        records, complete = await lister.created_between(min(times), max(times), limit)
    except ProviderError as exc:
        # The by-id loads below answer instead, and report the provider if it still fails.
        logger.info("%s: creation window not listed (%s); reading by id", provider, exc.kind)
    else:
        # Only the records asked for: the rest of the window is no answer this read needs.
        wanted = set(refs)
        ctx.loaders.prime([record for record in records if record.ref in wanted])
        if not complete:
            logger.debug("%s: creation window longer than %d records", provider, limit)
    return await _loads(ctx, refs)


async def _loads(ctx: RequestContext, refs: Sequence[RecordRef]) -> dict[RecordRef, LookupResult]:
    by_provider: dict[str, list[RecordRef]] = {}
    for ref in refs:
        by_provider.setdefault(ref.provider, []).append(ref)
    parts = await asyncio.gather(
        *(
            ctx.loaders.load_many(provider, Lookup.ID, [ref.id for ref in group])
            for provider, group in by_provider.items()
        )
    )
    found: dict[RecordRef, LookupResult] = {}
    for group, results in zip(by_provider.values(), parts, strict=True):
        found.update(zip(group, results, strict=True))
    return found
