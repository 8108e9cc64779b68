"""Customers by id, answered together: every id a request asks for at once in one batch.

A router resolves a page's customers with one ``_entities`` call (a representation per
customer), and a query may ask ``customer(id:)`` under several aliases. Resolved one by one,
each id cost its own index read and its own wave of record reads, so no wave held the three
Stripe records a creation window needs (:mod:`gateway.core.windows`). The ids asked for in the
same tick are batched instead: one index read for all of them, one wave for every customer the
index knows (:func:`~gateway.core.graph_reads.from_index_each`), and the ids it does not know
looked up live from their anchor record, each on its own, as before. Every id's answer, or
error, is the one it would get alone.

Batching only, no answers kept for later in the request: a mutation reads the customer again
after writing it, and must see the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from gateway.core.context import RequestContext
from gateway.core.found import FoundCustomer
from gateway.core.graph import IdentityGraph
from gateway.core.graph_reads import from_index_each
from gateway.core.loaders import reading_fresh
from gateway.core.lookups import find, require_provider
from gateway.errors import ErrorCode, InvalidInput
from gateway.identity import InvalidCustomerId, decode_customer_id
from gateway.index import IndexedCustomer
from gateway.model import RecordRef

__all__ = ["CustomerLoader", "customer_by_id"]


async def customer_by_id(ctx: RequestContext, customer_id: str) -> FoundCustomer | None:
    """By the id the index keeps (or an alias of a merged-away id). Ids are minted from the
    customer's anchor record at the time, so an id the index does not know (issued before it,
    or by a gateway without it) is looked up from that record."""
    # One loader per fresh_reads state: a batch runs in the context of its first load.
    fresh = reading_fresh()
    loader = ctx.customers_by_id.get(fresh)
    if loader is None:
        loader = ctx.customers_by_id[fresh] = CustomerLoader(ctx)
    answer: _Answer = await loader.load(customer_id)
    if answer.error is not None:
        raise answer.error
    return answer.found


@dataclass(frozen=True, slots=True)
class _Answer:
    """One id's answer; a failure is a value (raised by each caller) so that it stays that
    id's own rather than failing the batch."""

    found: FoundCustomer | None = None
    error: Exception | None = None


class CustomerLoader(DataLoader[str, _Answer]):
    """The request's batcher of :func:`customer_by_id` (the same id twice in a batch is
    answered once)."""

    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        super().__init__(cache=False)

    async def batch_load_fn(self, keys: Sequence[str]) -> list[_Answer]:
        return await _answers(self.ctx, keys)


async def _answers(ctx: RequestContext, ids: Sequence[str]) -> list[_Answer]:
    """Each id checked as before any read, then the well-formed ones read from the index at
    once (a failing index: all of them live), then the known ones' wave and the unknown ones'
    live lookups side by side."""
    answers: dict[str, _Answer] = {}
    anchors: dict[str, RecordRef] = {}
    for customer_id in dict.fromkeys(ids):
        try:
            anchors[customer_id] = _anchor(customer_id)
        except InvalidInput as exc:
            answers[customer_id] = _Answer(error=exc)
    graph = ctx.graph
    known: Mapping[str, IndexedCustomer] = {}
    if graph is not None and anchors:
        known = await graph.guarded(graph.index.customers(list(anchors)), {})
    unknown = {i: anchor for i, anchor in anchors.items() if i not in known}
    indexed, live = await asyncio.gather(_indexed(ctx, graph, known), _live_each(ctx, unknown))
    answers.update(indexed)
    answers.update(live)
    return [answers[customer_id] for customer_id in ids]


def _anchor(customer_id: str) -> RecordRef:
    try:
        return decode_customer_id(customer_id)
    except InvalidCustomerId as exc:
        raise InvalidInput(f"invalid customer id: {exc}", ErrorCode.INVALID_ID) from None


async def _indexed(
    ctx: RequestContext, graph: IdentityGraph | None, known: Mapping[str, IndexedCustomer]
) -> dict[str, _Answer]:
    """The customers the index knows, their records read in one wave (ids naming the same
    customer, an alias and its survivor, share one answer)."""
    if graph is None or not known:
        return {}
    customers = list({customer.id: customer for customer in known.values()}.values())
    try:
        found = await from_index_each(ctx, graph, customers)
    except Exception as exc:  # every id of the wave fails with it, none of the others
        return {customer_id: _Answer(error=exc) for customer_id in known}
    answers = {
        customer.id: _Answer(error=answer) if isinstance(answer, Exception) else _Answer(answer)
        for customer, answer in zip(customers, found, strict=True)
    }
    return {customer_id: answers[customer.id] for customer_id, customer in known.items()}


async def _live_each(ctx: RequestContext, anchors: Mapping[str, RecordRef]) -> dict[str, _Answer]:
    """Each of ``anchors``' ids looked up live on its own, all concurrently."""
    answers = await asyncio.gather(*(_live(ctx, anchor) for anchor in anchors.values()))
    return dict(zip(anchors, answers, strict=True))


async def _live(ctx: RequestContext, anchor: RecordRef) -> _Answer:
    """An id the index does not know (or no index): found live from its anchor record."""
    try:
        require_provider(ctx, anchor.provider)
        return _Answer(await find(ctx, refs=[anchor], want=anchor))
    except Exception as exc:  # this id's own failure, as when it was looked up alone
        return _Answer(error=exc)
