"""FirstOfficer API v2 adapter: customer snapshots (MRR, contract value) by any id kind.

FirstOfficer has one read endpoint, ``GET /v2/customers/<id>``, which guesses what ``<id>`` is
from its shape: digits are a FirstOfficer id, ``cus_…`` a Stripe id, anything with ``@`` an
email, and the rest an extra_id. So every lookup kind is that one GET, but a value is only sent
when its shape makes FirstOfficer read it as the kind asked for (see :func:`sendable`), and the
answer is checked against the request (see :func:`matches`) before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final
from urllib.parse import quote

from gateway.errors import ErrorKind, ProviderError
from gateway.model import (
    Address,
    CustomerRecord,
    CustomerWrite,
    Lookup,
    Metric,
    Money,
    Page,
    RecordDetails,
    WritableField,
)
from gateway.providers import coerce
from gateway.providers.adapter import HTTPAdapter
from gateway.providers.coerce import email_key
from gateway.providers.contract import Capabilities

NAME: Final = "firstofficer"
MAX_PAGE_SIZE: Final = 100
CUSTOMERS: Final = "/v2/customers"
_WRITE_PARAMS: Final[Mapping[WritableField, str]] = {
    WritableField.EMAIL: "email",
    WritableField.NAME: "name",
    WritableField.EXTERNAL_ID: "extra_id",
}
"""CustomerWrite field -> FirstOfficer form param. ``stripe_id`` is not writable: FirstOfficer
learns it from Stripe (only the sandbox accepts it on create)."""


def _is_integer(value: str) -> bool:
    return value.isascii() and value.isdigit()


def sendable(by: Lookup, value: str) -> bool:
    """Whether FirstOfficer would read ``value`` as a ``by`` value.

    The GET resolves by shape in the order integer -> Stripe id -> email -> extra_id, so e.g. an
    extra_id of ``"42"`` would fetch customer 42 and an extra_id holding ``@`` would be matched
    as an email. Such values can never be found as the kind asked for; they are not sent.
    ``.``/``..`` are left out too: as a path segment they would change the URL.
    """
    if not value.strip() or value in (".", ".."):
        return False
    if by is Lookup.ID:
        return _is_integer(value)
    if by is Lookup.STRIPE_ID:
        return value.startswith("cus_")
    if by is Lookup.EMAIL:
        return "@" in value and not value.startswith("cus_")
    return not (_is_integer(value) or value.startswith("cus_") or "@" in value)


def matches(by: Lookup, value: str, raw: Mapping[str, Any]) -> bool:
    """Whether the customer FirstOfficer returned really carries ``value`` as a ``by`` value."""
    if by is Lookup.ID:
        return raw.get("id") == int(value)
    if by is Lookup.STRIPE_ID:
        return raw.get("stripe_id") == value
    if by is Lookup.EMAIL:
        email = raw.get("email")
        return isinstance(email, str) and email_key(email) == email_key(value)
    return raw.get("extra_id") == value


def _status(subscriptions: int | None) -> str | None:
    """``active`` with subscriptions this month, else ``lost``.

    The docs define it: "When subscription count is zero, customer is lost." The count follows
    FirstOfficer's bookkeeping (the subscriptions that made up this month's MRR), not Stripe's
    live subscription state.
    """
    if subscriptions is None:
        return None
    return "active" if subscriptions > 0 else "lost"


@dataclass(frozen=True, slots=True)
class FirstOfficerDetails(RecordDetails):
    """The ids FirstOfficer keeps beside its own."""

    stripe_id: str | None = None
    extra_id: str | None = None


def to_record(raw: Any) -> CustomerRecord:
    """Map a FirstOfficer customer object; anything without an integer id is a bad response."""
    if not isinstance(raw, dict) or coerce.whole_number(raw.get("id")) is None:
        raise ProviderError(NAME, ErrorKind.BAD_RESPONSE, "expected a customer with an integer id")
    currency = coerce.text(raw.get("currency"))
    currency = currency.lower() if currency else None
    metrics: dict[Metric, Money | int] = {}
    if currency:  # money without a currency would be meaningless
        for metric, key in (
            (Metric.CURRENT_MRR, "current_mrr"),
            (Metric.TOTAL_CONTRACT_VALUE, "total_contract_value"),
        ):
            if (amount := coerce.whole_number(raw.get(key))) is not None:
                metrics[metric] = Money(amount, currency)
    subscriptions = coerce.whole_number(raw.get("current_subscription_count"))
    if subscriptions is not None:
        metrics[Metric.CURRENT_SUBSCRIPTION_COUNT] = subscriptions
    address = Address(country=coerce.text(raw.get("country")), state=coerce.text(raw.get("state")))
    return CustomerRecord(
        provider=NAME,
        id=str(raw["id"]),
        raw=raw,
        email=coerce.text(raw.get("email")),
        name=coerce.text(raw.get("name")),
        address=None if address.is_empty() else address,
        currency=currency,
        status=_status(subscriptions),
        metrics=metrics,
        details=FirstOfficerDetails(
            stripe_id=coerce.display(raw.get("stripe_id")),
            extra_id=coerce.display(raw.get("extra_id")),
        ),
    )


class FirstOfficerAdapter(HTTPAdapter):
    """Reads and edits FirstOfficer customers; FirstOfficer has no delete."""

    name = NAME
    capabilities = Capabilities(
        lookups=frozenset({Lookup.ID, Lookup.EMAIL, Lookup.STRIPE_ID, Lookup.EXTERNAL_ID}),
        # Emails are unique in FirstOfficer, and a Stripe id or extra_id names one customer.
        unique_lookups=frozenset({Lookup.ID, Lookup.EMAIL, Lookup.STRIPE_ID, Lookup.EXTERNAL_ID}),
        list_page=True,
        max_page_size=MAX_PAGE_SIZE,
        create=True,
        update=True,
        delete=False,
        writable_fields=frozenset(_WRITE_PARAMS),
    )
    trim_lookup_values: ClassVar[bool] = False
    """A value's exact text decides what FirstOfficer reads it as: it is sent as given."""

    @classmethod
    def auth_headers(cls, api_key: str) -> Mapping[str, str]:
        """FirstOfficer's own token scheme."""
        return {"Authorization": f'Token token="{api_key}"'}

    def lookup_key(self, by: Lookup, value: str) -> str | None:
        """Only values FirstOfficer would read as ``by`` are sent (see :func:`sendable`)."""
        return super().lookup_key(by, value) if sendable(by, value) else None

    async def fetch_one(self, by: Lookup, value: str) -> list[CustomerRecord]:
        """The one GET; its answer counts only if it carries ``value`` as a ``by`` value."""
        try:
            body = await self.http.request("GET", f"{CUSTOMERS}/{quote(value, safe='@')}")
        except ProviderError as exc:
            if exc.kind is ErrorKind.NOT_FOUND:
                return []
            raise
        record = to_record(body)
        return [record] if matches(by, value, record.raw) else []

    async def list_page(self, cursor: str | None, limit: int) -> Page:
        """One page in id order; the cursor is the last id seen (``starting_after``)."""
        params: dict[str, Any] = {"limit": min(max(limit, 1), MAX_PAGE_SIZE)}
        if cursor is not None:
            params["starting_after"] = cursor
        body = await self.http.request("GET", CUSTOMERS, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ProviderError(NAME, ErrorKind.BAD_RESPONSE, "expected a list of customers")
        records = [to_record(item) for item in data]
        more = bool(body.get("has_more")) and bool(records)
        return Page(records=records, next_cursor=records[-1].id if more else None)

    async def create(
        self, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """POST a new customer; FirstOfficer requires a unique email.

        Not retried: FirstOfficer has no idempotency keys, and a repeated create would fail on
        the now-taken email rather than report the first one's success.
        """
        params = self._params(write, creating=True)
        if not params.get("email"):
            raise ProviderError(
                NAME, ErrorKind.BAD_REQUEST, "email is required to create a FirstOfficer customer"
            )
        return to_record(await self.http.request("POST", CUSTOMERS, data=params))

    async def update(
        self, record_id: str, write: CustomerWrite, *, idempotency_key: str | None = None
    ) -> CustomerRecord:
        """PUT the given fields; a PUT sets values, so it is safe to retry, and is retried
        only under an idempotency key (FirstOfficer has none, so the key is not sent)."""
        if not _is_integer(record_id):
            # Any other shape would be resolved as a Stripe id, email or extra_id.
            raise ProviderError(
                NAME, ErrorKind.BAD_REQUEST, f"not a FirstOfficer customer id: {record_id!r}"
            )
        params = self._params(write, creating=False)
        body = await self.http.request(
            "PUT",
            f"{CUSTOMERS}/{record_id}",
            data=params,
            retry_writes=idempotency_key is not None,
        )
        return to_record(body)

    async def delete(self, record_id: str, *, idempotency_key: str | None = None) -> None:
        raise NotImplementedError("FirstOfficer customers cannot be deleted")

    @staticmethod
    def _params(write: CustomerWrite, *, creating: bool) -> dict[str, str]:
        """Form params for the writable fields given; ``None`` clears (sent empty).

        Fields FirstOfficer cannot store are left out (see ``capabilities.writable_fields``).
        """
        params: dict[str, str] = {}
        for field_name, value in write.given().items():
            param = _WRITE_PARAMS.get(WritableField(field_name))
            if param is None:
                continue
            if value is None:
                if param == "email":
                    raise ProviderError(
                        NAME, ErrorKind.BAD_REQUEST, "a FirstOfficer customer needs an email"
                    )
                if not creating:
                    params[param] = ""
                continue
            params[param] = str(value)
        return params
