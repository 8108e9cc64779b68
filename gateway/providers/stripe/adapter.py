"""Stripe customers adapter: retrieve by id, search by email and external id, list, write.

Many ids at once can also be read with one listing of the window they were created in
(:meth:`StripeAdapter.created_between`, the ``CreatedWindow`` capability).

Emails and external ids (a metadata key, ``IdentitySettings.external_id_metadata_key``) are
resolved with the Search API, ten values OR-joined per call (Stripe allows ten clauses). Search
lags writes (normally under a minute, up to an hour in outages), so the adapter remembers what it
wrote itself for a while (:class:`RecentWrites`) and retrieves those ids alongside each search:
a customer this gateway just created or changed is found by its new email at once, and a stale
search hit for it is replaced by its current state.

Search is not available on every account (nor in every Stripe-compatible fake). When the search
route answers 404, or Stripe's 400 saying search is not supported or available, the adapter
remembers it (:class:`SearchAvailability`, re-probed every :data:`SEARCH_REPROBE_AFTER` seconds)
and serves emails from the list endpoint's exact, case-sensitive ``email`` filter; external-id
lookups, which only search can answer, find nothing. Either way the request gets a notice
(:func:`~gateway.providers.notices.notice`) that its answer names in ``degradedProviders``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Final

from gateway.errors import ProviderError
from gateway.model import CustomerRecord, Lookup, WritableField
from gateway.providers import coerce
from gateway.providers.adapter import gather_all
from gateway.providers.coerce import email_key
from gateway.providers.contract import Capabilities
from gateway.providers.notices import notice
from gateway.providers.stripe.search_state import (
    RecentKey,
    RecentWrites,
    SearchAvailability,
    search_refused,
)
from gateway.providers.stripe_like.adapter import (
    CUSTOMERS,
    MAX_PAGE_SIZE,
    MAX_PAGES,
    JSONObject,
    StripeLikeAdapter,
)

logger = logging.getLogger("customer_gateway.providers.stripe")

NAME: Final = "stripe"
STRIPE_API_VERSION: Final = "2026-10-28.endive"
"""The API version every request pins (the one stripe-python 16.1.0 was released with), so an
account's default version can never change the shapes this adapter reads."""
SEARCH: Final = f"{CUSTOMERS}/search"
SEARCH_BATCH: Final = 10
"""Values per search call: Stripe allows at most ten clauses in one query."""


def search_literal(value: str) -> str:
    """A quoted search value with ``\\`` and ``'`` escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class StripeAdapter(StripeLikeAdapter):
    """Stripe customers through the resilient client, pinned to :data:`STRIPE_API_VERSION`."""

    name = NAME
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EMAIL, Lookup.STRIPE_ID, Lookup.EXTERNAL_ID}),
        batch_sizes={Lookup.EMAIL: SEARCH_BATCH, Lookup.EXTERNAL_ID: SEARCH_BATCH},
        # Stripe allows several customers per email and does not enforce unique metadata.
        unique_lookups=frozenset({Lookup.ID, Lookup.STRIPE_ID}),
        list_page=True,
        max_page_size=MAX_PAGE_SIZE,
        create=True,
        update=True,
        delete=True,
        change_feed=True,
        created_window=True,
        # No ``currency`` (Stripe sets it from the first invoice or subscription; the customer
        # create/update parameters have none), no ``company`` (no such field; ``name`` may hold
        # a business name).
        writable_fields=frozenset(
            {
                WritableField.EMAIL,
                WritableField.NAME,
                WritableField.PHONE,
                WritableField.DESCRIPTION,
                WritableField.ADDRESS,
                WritableField.METADATA,
                WritableField.EXTERNAL_ID,
            }
        ),
    )
    default_headers: ClassVar[Mapping[str, str]] = {
        **StripeLikeAdapter.default_headers,
        "Stripe-Version": STRIPE_API_VERSION,
    }

    @cached_property
    def recent(self) -> RecentWrites:
        """What this adapter wrote lately: one memory per adapter, like its HTTP client."""
        return RecentWrites()

    @cached_property
    def search_availability(self) -> SearchAvailability:
        """Whether search works here: one memory per adapter, like its HTTP client."""
        return SearchAvailability()

    @property
    def search_unavailable(self) -> bool:
        """Whether the account refused customer search the last time it was tried."""
        return self.search_availability.refused

    @property
    def search_note(self) -> str | None:
        """What callers should know while search is unavailable (``None`` while it works)."""
        reason = self.search_availability.reason
        return None if reason is None else self._search_unavailable_message(reason)

    def _search_unavailable_message(self, reason: str) -> str:
        return (
            f"customer search is unavailable on this Stripe account ({reason}): email lookups "
            f"are served by the list filter GET {CUSTOMERS}?email=, which matches exactly and "
            f"case-sensitively; lookups by metadata[{self.external_id_key}] need search and "
            "cannot be answered"
        )

    @property
    def external_id_key(self) -> str:
        """External ids live in this metadata key (``IdentitySettings``)."""
        return self.identity.external_id_metadata_key

    def remember(self, obj: Mapping[str, Any]) -> None:
        keys: list[RecentKey] = []
        if not obj.get("deleted"):
            if (email := coerce.text(obj.get("email"))) and email_key(email):
                keys.append((Lookup.EMAIL, email_key(email)))
            metadata = obj.get("metadata")
            external = metadata.get(self.external_id_key) if isinstance(metadata, dict) else None
            if isinstance(external, str) and external.strip():
                keys.append((Lookup.EXTERNAL_ID, external.strip()))
        self.recent.remember(str(obj["id"]), keys)

    # creation windows -----------------------------------------------------------------------

    async def created_between(
        self, start: datetime, end: datetime, limit: int
    ) -> tuple[list[CustomerRecord], bool]:
        """``CreatedWindow``: one ``GET /v1/customers?created[gte]&created[lte]`` (unix seconds,
        inclusive, widened to whole seconds), newest first; ``has_more`` means not all listed.

        One page only: the caller reads what the window missed by id, so a second page would
        add a sequential call where those reads run concurrently."""
        params = [
            ("created[gte]", str(math.floor(start.timestamp()))),
            ("created[lte]", str(math.ceil(end.timestamp()))),
            ("limit", str(min(max(limit, 1), MAX_PAGE_SIZE))),
        ]
        data, has_more = self.expect_list(await self.http.request("GET", CUSTOMERS, params=params))
        return self.records(data), not has_more

    # search lookups -------------------------------------------------------------------------

    def match_key(self, by: Lookup, obj: Mapping[str, Any]) -> str | None:
        """The lookup key a customer answers to, compared like the values asked for."""
        if by is Lookup.EMAIL:
            email = obj.get("email")
            return email_key(email) if isinstance(email, str) else None
        metadata = obj.get("metadata")
        external = metadata.get(self.external_id_key) if isinstance(metadata, dict) else None
        return external.strip() if isinstance(external, str) else None

    def query(self, by: Lookup, values: Sequence[str]) -> str:
        if by is Lookup.EMAIL:
            clauses = [f"email:{search_literal(v)}" for v in values]
        else:
            field = f"metadata[{search_literal(self.external_id_key)}]"
            clauses = [f"{field}:{search_literal(v)}" for v in values]
        return " OR ".join(clauses)

    async def resolve_many(
        self, by: Lookup, values: Mapping[str, str]
    ) -> Mapping[str, Sequence[CustomerRecord]]:
        """Ids are retrieved one by one; emails and external ids are searched in batches.

        Where search is refused, emails use the list filter and external ids find nothing; the
        request gets a notice saying so.
        """
        if by not in (Lookup.EMAIL, Lookup.EXTERNAL_ID):
            return await super().resolve_many(by, values)
        if self.search_availability.worth_trying():
            try:
                found = await self.search(by, values)
            except ProviderError as exc:
                if not search_refused(exc):
                    raise
                self._note_search_refused(exc)
            else:
                if self.search_availability.accept():
                    logger.info("stripe customer search works again; lookups use it")
                return {key: self.records(objs) for key, objs in found.items()}
        notice(self.name, self.search_note or "customer search is unavailable")
        if by is not Lookup.EMAIL:
            # Only search finds metadata: nothing is found here, and the notice says why, so
            # the rest of Stripe's answer (ids, emails) still serves the customer.
            return {key: [] for key in values}
        return await self._list_by_emails(values)

    def _note_search_refused(self, error: ProviderError) -> None:
        """Remember the refusal; warn once when search goes from usable to refused."""
        status = f"HTTP {error.status}" if error.status is not None else error.kind.value
        if self.search_availability.refuse(f"{status}: {error.message}"):
            logger.warning(
                "%s; trying search again after %.0fs",
                self.search_note,
                self.search_availability.reprobe_after,
            )

    async def _list_by_emails(self, values: Mapping[str, str]) -> dict[str, list[CustomerRecord]]:
        """Emails without search: one list-filter call per distinct email, all concurrent.

        The list is consistent with writes, so no recently written ids are retrieved alongside.
        """
        keys = list(values)
        found = await gather_all(self.list_by_email(values[key]) for key in keys)
        return {
            key: self.records(sorted(objs, key=_newest_first))
            for key, objs in zip(keys, found, strict=True)
        }

    async def search(self, by: Lookup, values: Mapping[str, str]) -> dict[str, list[JSONObject]]:
        """Search in batches of ten, concurrently with retrieves of recently written matches.

        Search answers are re-checked against the values (the OR spans a whole batch) and
        anything this adapter wrote lately is taken from its fresh retrieve, not the index.
        """
        keys = list(values)
        batches = [keys[i : i + SEARCH_BATCH] for i in range(0, len(keys), SEARCH_BATCH)]
        remembered = list(dict.fromkeys(i for key in keys for i in self.recent.ids_for(by, key)))
        outcomes = await gather_all(
            [
                *(
                    self._search_all(self.query(by, [values[k] for k in batch]))
                    for batch in batches
                ),
                *(self._fetch(customer_id) for customer_id in remembered),
            ]
        )
        hits = [obj for found in outcomes[: len(batches)] for obj in found]
        fresh = {str(obj["id"]): obj for found in outcomes[len(batches) :] for obj in found}
        # A hit we wrote lately but did not retrieve may come from a stale index entry.
        stale = list(
            dict.fromkeys(
                str(hit["id"])
                for hit in hits
                if hit["id"] not in fresh and hit["id"] in self.recent
            )
        )
        for found in await gather_all(self._fetch(customer_id) for customer_id in stale):
            fresh.update((str(obj["id"]), obj) for obj in found)
        current: dict[str, JSONObject] = {}
        for obj in [*hits, *fresh.values()]:
            latest = fresh.get(str(obj["id"]), obj)
            if not latest.get("deleted"):
                current[str(latest["id"])] = latest
        found_by_key: dict[str, list[JSONObject]] = {key: [] for key in keys}
        for obj in sorted(current.values(), key=_newest_first):
            key = self.match_key(by, obj)
            if key is not None and key in found_by_key:
                found_by_key[key].append(obj)
        return found_by_key

    async def _fetch(self, customer_id: str) -> list[JSONObject]:
        """A fresh retrieve; a customer that is gone comes back as ``deleted``."""
        obj = await self.retrieve(customer_id)
        return [obj if obj is not None else {"id": customer_id, "deleted": True}]

    async def _search_all(self, query: str) -> list[JSONObject]:
        """Every result of one search, following ``next_page`` (bounded)."""
        found: list[JSONObject] = []
        page: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            params = [("query", query), ("limit", str(MAX_PAGE_SIZE))]
            if page is not None:
                params.append(("page", page))
            body = await self.http.request("GET", SEARCH, params=params)
            data, has_more = self.expect_list(body)
            found.extend(data)
            next_page = body.get("next_page")
            if not (has_more and isinstance(next_page, str) and next_page):
                return found
            if next_page in seen:
                raise self.bad_response("search returned the same next_page twice")
            seen.add(next_page)
            page = next_page
        raise self.bad_response(f"search results did not end within {MAX_PAGES} pages")


def _newest_first(obj: Mapping[str, Any]) -> tuple[int, str]:
    return (-(coerce.whole_number(obj.get("created")) or 0), str(obj["id"]))
