"""The domain model: what the gateway knows about customers, whichever provider holds them.

Adapters turn each provider's objects into these types at their boundary; everything past it (the
identity resolver, the core services, the GraphQL layer) reads typed fields, never raw JSON (each
record keeps the provider's object in ``raw`` as an explicit escape hatch).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final, NamedTuple, TypeAlias, TypeVar

JSONObject = Mapping[str, Any]


class Lookup(enum.StrEnum):
    """Ways of finding a customer record in a provider.

    The names double as identity link namespaces: a record holding a Stripe id under
    ``stripe_id`` (FirstOfficer's ``stripe_id``, ChartMogul's ``external_id``, Lago's
    ``provider_customer_id``) can be looked up by ``Lookup.STRIPE_ID`` where the provider allows.
    """

    ID = "id"
    """The provider's own identifier (Stripe ``cus_…``, ChartMogul uuid, Lago external id, …)."""
    EMAIL = "email"
    STRIPE_ID = "stripe_id"
    """A Stripe customer id the provider's record is linked to."""
    EXTERNAL_ID = "external_id"
    """The company's own customer id (Lago ``external_id``, Stripe metadata, FO ``extra_id``)."""


class Metric(enum.StrEnum):
    """Revenue figures providers report; values are the GraphQL field names."""

    MRR = "mrr"
    ARR = "arr"
    CURRENT_MRR = "currentMrr"
    TOTAL_CONTRACT_VALUE = "totalContractValue"
    BALANCE = "balance"
    """Money; negative is credit."""
    CURRENT_SUBSCRIPTION_COUNT = "currentSubscriptionCount"
    """A count, not money."""


class WritableField(enum.StrEnum):
    """The :class:`CustomerWrite` fields, by name: what adapters declare they can store."""

    EMAIL = "email"
    NAME = "name"
    PHONE = "phone"
    COMPANY = "company"
    DESCRIPTION = "description"
    ADDRESS = "address"
    CURRENCY = "currency"
    METADATA = "metadata"
    EXTERNAL_ID = "external_id"
    STRIPE_ID = "stripe_id"
    DATA_SOURCE_UUID = "data_source_uuid"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def is_empty(self) -> bool:
        return not any(
            (self.line1, self.line2, self.city, self.state, self.postal_code, self.country)
        )


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    """Integer minor units (cents)."""
    currency: str
    """Lower-case ISO 4217 code."""


class RecordDetails:
    """Fields only one provider has, typed by its adapter (each provider subclasses this).

    The GraphQL record types read these, never the raw object by path.
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """One provider's view of a customer, normalised, with the raw object kept alongside."""

    provider: str
    id: str
    """The provider's own id as a string (integer ids are stringified)."""
    raw: JSONObject
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    company: str | None = None
    address: Address | None = None
    currency: str | None = None
    created_at: datetime | None = None
    status: str | None = None
    metrics: Mapping[Metric, Money | int] = field(default_factory=dict)
    """Money for every metric but :attr:`Metric.CURRENT_SUBSCRIPTION_COUNT`, a count."""
    details: RecordDetails | None = None
    """The provider's own typed fields (see each provider's ``details`` module)."""
    deleted: bool = False
    ref: RecordRef = field(init=False, repr=False, compare=False)
    """``(provider, id)``, made once: merges and loaders key everything by it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", RecordRef(self.provider, self.id))


class RecordRef(NamedTuple):
    """A (provider, id) pair naming one record; orderable so merges are deterministic.

    A named tuple, not a dataclass: merges and loaders hash, compare and sort refs thousands of
    times a page, and a tuple does that in C (a dataclass's ``__hash__`` and ``__lt__`` are
    Python calls).
    """

    provider: str
    id: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"


@dataclass(frozen=True, slots=True)
class Page:
    records: Sequence[CustomerRecord]
    next_cursor: str | None
    """Upstream cursor for the next page, ``None`` at the end."""


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks a write field the caller did not send (as opposed to ``None``, which clears it)."""

_T = TypeVar("_T")
Maybe: TypeAlias = _T | _Unset | None


@dataclass(frozen=True, slots=True)
class CustomerWrite:
    """A unified, partial change to a customer; adapters map it onto their own parameters."""

    email: Maybe[str] = UNSET
    name: Maybe[str] = UNSET
    phone: Maybe[str] = UNSET
    company: Maybe[str] = UNSET
    description: Maybe[str] = UNSET
    address: Maybe[Address] = UNSET
    currency: Maybe[str] = UNSET
    metadata: Maybe[Mapping[str, str]] = UNSET
    external_id: Maybe[str] = UNSET
    """The company's own id: Lago ``external_id``, FirstOfficer ``extra_id``, ChartMogul
    ``external_id`` when no Stripe id is given, and the configured Stripe metadata key."""
    stripe_id: Maybe[str] = UNSET
    """Links the record to a Stripe customer (Lago ``provider_customer_id``, ChartMogul
    ``external_id``)."""
    data_source_uuid: Maybe[str] = UNSET
    """ChartMogul data source to create the customer in."""

    def given(self) -> dict[str, Any]:
        """The fields the caller sent, ``None`` included, keyed by :class:`WritableField`."""
        return {
            WritableField(f.name): value
            for f in fields(self)
            if (value := getattr(self, f.name)) is not UNSET
        }


class ChangeKind(enum.StrEnum):
    """What happened to a record, as a provider's change feed or webhook reports it."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change to one customer record, from a provider's events list or a webhook.

    ``record`` is the provider's object as of the event (``deleted=True`` for a deletion), so the
    identity index can apply it without another call. ``occurred_at`` orders events per record:
    an event older than what the index already holds for that record changes nothing, which is
    how duplicated and out-of-order deliveries converge.
    """

    provider: str
    event_id: str
    kind: ChangeKind
    record: CustomerRecord
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class EventPage:
    """A slice of a provider's change feed, oldest first."""

    events: Sequence[ChangeEvent]
    cursor: str | None
    """Where to resume after these events (opaque to the gateway; ``None`` when there were
    none and the previous cursor stands)."""
    has_more: bool
