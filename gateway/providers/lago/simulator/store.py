"""Lago's customers by external id: the upsert, the newest-first list, filters and search."""

from __future__ import annotations

import bisect
import copy
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from starlette.datastructures import QueryParams

from gateway.providers.lago.simulator.errors import LagoInvalid, LagoNotFound
from gateway.providers.lago.simulator.input import CustomerInput, is_scalar, scalar_text
from gateway.providers.lago.simulator.shape import Customer
from gateway.sandbox.coerce import query_int

DEFAULT_PER_PAGE: Final = 100
_SEARCHED_FIELDS: Final = ("name", "firstname", "lastname", "legal_name", "external_id", "email")
_SEP: Final = "\x00"


@dataclass
class ListQuery:
    """``GET /customers`` filters and paging."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    search_term: str | None = None
    filters: list[Callable[[Customer], bool]] = field(default_factory=list)

    @classmethod
    def from_params(cls, query: QueryParams) -> ListQuery:
        out = cls(
            page=_positive_int(query.get("page"), 1),
            per_page=_positive_int(query.get("per_page"), DEFAULT_PER_PAGE),
            search_term=query.get("search_term") or None,
        )
        for param, attr in (
            ("countries[]", "country"),
            ("currencies[]", "currency"),
            ("states[]", "state"),
            ("zipcodes[]", "zipcode"),
        ):
            if wanted := query.getlist(param):
                out.filters.append(_one_of(attr, frozenset(wanted)))
        if customer_type := query.get("customer_type"):
            out.filters.append(_one_of("customer_type", frozenset({customer_type})))
        for param, attr in (
            ("has_customer_type", "customer_type"),
            ("has_tax_identification_number", "tax_identification_number"),
        ):
            if (flag := query.get(param)) in ("true", "false"):
                out.filters.append(_present(attr, flag == "true"))
        for key, value in query.multi_items():
            if match := re.fullmatch(r"metadata\[(.+)\]", key):
                out.filters.append(_metadata_filter(match.group(1), value))
        return out

    def matches(self, customer: Customer) -> bool:
        if self.search_term is not None:
            term = self.search_term.casefold()
            values = [
                customer.external_id if f == "external_id" else customer.attrs[f]
                for f in _SEARCHED_FIELDS
            ]
            if not any(isinstance(v, str) and term in v.casefold() for v in values):
                return False
        return all(check(customer) for check in self.filters)


def _one_of(attr: str, wanted: frozenset[str]) -> Callable[[Customer], bool]:
    return lambda c: c.attrs[attr] in wanted


def _present(attr: str, expected: bool) -> Callable[[Customer], bool]:
    return lambda c: bool(c.attrs[attr]) == expected


def _metadata_filter(key: str, value: str) -> Callable[[Customer], bool]:
    """``metadata[k]=v`` matches that pair; an empty value matches customers without ``k``."""
    if value == "":
        return lambda c: all(m["key"] != key for m in c.metadata)
    return lambda c: any(m["key"] == key and m["value"] == value for m in c.metadata)


def _positive_int(raw: str | None, default: int) -> int:
    value = query_int(raw)
    return value if value is not None and value > 0 else default


def _sort_key(customer: Customer) -> tuple[datetime, str]:
    """What fixes a customer's list place (its external id is its key, also fixed)."""
    return customer.created_at, customer.lago_id


def _search_text(customer: Customer) -> str:
    """The fields ``search_term`` looks in, casefolded, joined by a NUL."""
    values = (
        customer.external_id if f == "external_id" else customer.attrs[f] for f in _SEARCHED_FIELDS
    )
    return _SEP.join(v.casefold() for v in values if isinstance(v, str))


class CustomerStore:
    """Customers by external id. Deleted customers are gone from the API (Lago discards them).

    The list order (newest first, then by ``lago_id``) is cached, and so is one casefolded text
    of every customer's searched fields in that order: a ``search_term`` is found in it with
    ``str.find`` and only the customers it lands in are checked. Writes go through
    :meth:`add`, :meth:`upsert` and :meth:`delete`, which keep both current.
    """

    def __init__(self) -> None:
        self.customers: dict[str, Customer] = {}
        self.next_sequence = 1
        self._order: list[Customer] | None = None
        self._positions: dict[str, int] = {}
        self._texts: dict[str, str] = {}
        """Each customer's :func:`_search_text`, computed when first searched."""
        self._haystack: tuple[str, list[int]] | None = None
        """All texts in list order joined by NUL, and where each one starts."""

    def add(self, customer: Customer) -> None:
        if customer.external_id in self.customers:
            raise ValueError(f"duplicate Lago external_id {customer.external_id!r}")
        self.customers[customer.external_id] = customer
        self.next_sequence = max(self.next_sequence, customer.sequential_id + 1)
        self._changed(customer.external_id, moved=True)

    def _changed(self, external_id: str, *, moved: bool) -> None:
        """Drop what caches ``external_id``'s customer; ``moved``: its list place may differ."""
        self._texts.pop(external_id, None)
        self._haystack = None
        if moved:
            self._order = None
        elif self._order is not None:
            self._order[self._positions[external_id]] = self.customers[external_id]

    def ordered(self) -> Sequence[Customer]:
        """Every customer in list order (the cached list itself: read only)."""
        if self._order is None:
            order = sorted(self.customers.values(), key=lambda c: c.lago_id)
            order.sort(key=lambda c: c.created_at, reverse=True)
            self._positions = {c.external_id: i for i, c in enumerate(order)}
            self._order = order
        return self._order

    def containing(self, term: str) -> list[Customer]:
        """Customers (in list order) whose searched fields may hold ``term`` (casefolded).

        Every customer with a field holding it is included; a term spanning two fields can
        add others, so callers check each with :meth:`ListQuery.matches`.
        """
        order = self.ordered()
        if self._haystack is None:
            texts = []
            for customer in order:
                text = self._texts.get(customer.external_id)
                if text is None:
                    text = self._texts[customer.external_id] = _search_text(customer)
                texts.append(text)
            starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))
            self._haystack = _SEP.join(texts), starts
        haystack, starts = self._haystack
        found: list[Customer] = []
        at = haystack.find(term)
        while at != -1:
            i = bisect.bisect_right(starts, at) - 1
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(haystack)
            if at + len(term) <= end:
                found.append(order[i])
            # Any later hit starting in this customer's text ends past it too, or is found.
            at = haystack.find(term, end + 1)
        return found

    def upsert(self, params: Mapping[str, Any]) -> Customer:
        """Create or update by ``external_id``; all-or-nothing, like Lago's transaction."""
        now = datetime.now(UTC)
        raw_id = params.get("external_id")
        external_id = scalar_text(raw_id) if is_scalar(raw_id) else None
        if external_id is not None and not external_id.strip():
            external_id = None
        current = self.customers.get(external_id) if external_id else None
        new = current is None
        draft = (
            Customer.blank(external_id or "", self.next_sequence, now)
            if current is None
            else copy.deepcopy(current)
        )
        rules = CustomerInput(params, now)
        if not external_id:
            rules.fail("external_id", "value_is_mandatory")
        try:
            rules.apply(draft, new=new)
        except LagoInvalid as exc:
            if not external_id and "external_id" not in exc.details:
                raise LagoInvalid({"external_id": ["value_is_mandatory"], **exc.details}) from exc
            raise
        if new:
            self.next_sequence += 1
        else:
            draft.updated_at = max(now, draft.updated_at)
        self.customers[draft.external_id] = draft
        moved = current is None or _sort_key(current) != _sort_key(draft)
        self._changed(draft.external_id, moved=moved)
        return draft

    def get(self, external_id: str) -> Customer:
        try:
            return self.customers[external_id]
        except KeyError:
            raise LagoNotFound("customer_not_found") from None

    def delete(self, external_id: str) -> Customer:
        customer = self.get(external_id)
        del self.customers[external_id]
        self._changed(external_id, moved=True)
        return customer

    def page(self, query: ListQuery) -> tuple[list[Customer], dict[str, Any]]:
        """One page, newest first then by id, and Lago's ``meta`` block."""
        if query.search_term is not None:
            candidates: Sequence[Customer] = self.containing(query.search_term.casefold())
        else:
            candidates = self.ordered()
        if query.search_term is None and not query.filters:
            matched = list(candidates)
        else:
            matched = [c for c in candidates if query.matches(c)]
        total = len(matched)
        if total == 0:
            return [], {
                "current_page": 0,
                "next_page": None,
                "prev_page": None,
                "total_pages": 0,
                "total_count": 0,
            }
        pages = math.ceil(total / query.per_page)
        page = query.page
        start = (page - 1) * query.per_page
        in_range = page <= pages
        return matched[start : start + query.per_page], {
            "current_page": page,
            "next_page": page + 1 if page < pages else None,
            "prev_page": page - 1 if page > 1 and in_range else None,
            "total_pages": pages,
            "total_count": total,
        }
