"""Deletions found by a complete listing: records the index holds that the provider no longer
lists.

Only a listing that ran from the first page to the last in one pass knows every record the
provider holds, so only such a listing sweeps. Each deletion is dated at the moment that listing
*started*: the index ignores a change older than what it holds for a record, so a record it
learnt of after the listing began (an event, a webhook, a live read, a page listed after the
record was created) is never deleted by a listing that could not have seen it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from gateway.index.contract import (
    ChangeSource,
    CustomerFilter,
    IdentityIndex,
    PageQuery,
    RecordChange,
)
from gateway.model import CustomerRecord, RecordRef

__all__ = ["sweep_deleted"]

logger = logging.getLogger("customer_gateway.sync")

_INDEX_PAGE = 200
"""Customers read per index page while collecting a provider's records."""


async def indexed_refs(index: IdentityIndex, provider: str) -> set[RecordRef]:
    """Every live record of ``provider`` the index holds (through its customers)."""
    found: set[RecordRef] = set()
    only = CustomerFilter(providers=frozenset({provider}))
    after: str | None = None
    while True:
        page = await index.page(PageQuery(first=_INDEX_PAGE, after=after, filter=only))
        for customer in page.customers:
            found.update(ref for ref in customer.members if ref.provider == provider)
        if not page.has_next_page or page.end_cursor is None:
            return found
        after = page.end_cursor


async def sweep_deleted(
    index: IdentityIndex,
    provider: str,
    listed: Collection[RecordRef],
    *,
    listing_started: datetime,
    source: ChangeSource,
) -> int:
    """Mark deleted the records of ``provider`` the index holds but a complete listing started
    at ``listing_started`` did not return; returns how many deletions were applied.

    An empty listing sweeps nothing while the index holds records: a provider answering an
    empty list (a new account behind the same key, a filter gone wrong) is likelier than every
    customer deleted at once, and wiping the graph is the costlier mistake.
    """
    missing = sorted((await indexed_refs(index, provider)) - set(listed))
    if not missing:
        return 0
    if not listed:
        logger.warning(
            "sync: %s listed no records while the index holds %d; not deleting them",
            provider,
            len(missing),
            extra={"provider": provider, "held": len(missing)},
        )
        return 0
    snapshots = await index.records(missing)
    changes = [
        RecordChange(
            replace(snapshots[ref], deleted=True)
            if ref in snapshots
            else CustomerRecord(provider=ref.provider, id=ref.id, raw={}, deleted=True),
            observed_at=listing_started,
            source=source,
        )
        for ref in missing
    ]
    applied = await index.apply(changes)
    deleted = len(changes) - applied.ignored
    logger.info(
        "sync: %s no longer lists %d records; marked deleted",
        provider,
        deleted,
        extra={"provider": provider, "deleted": deleted, "ignored": applied.ignored},
    )
    return deleted
