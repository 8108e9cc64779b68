"""What a Stripe-style provider's customer object is: defaults, parameters, seed records.

A provider subclasses :class:`CustomerShape`: its object at defaults, how create and update
parameters change it, and which fields a seed record may carry. :meth:`CustomerShape.seed`
checks a seed record with the very code the create route runs (``apply_params`` over
:func:`~gateway.providers.stripe_like.simulator.params.wire_params`), so a dataset holds
nothing the provider's API would refuse.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from gateway.providers.stripe_like.simulator.errors import ApiError
from gateway.providers.stripe_like.simulator.params import Kind, wire_params
from gateway.providers.stripe_like.simulator.store import CustomerStore, generate_id
from gateway.sandbox.coerce import is_int

JSON = dict[str, Any]
CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9]+$")
"""Stripe-style customer ids: ``cus_`` and letters or digits (``cus_5V50idQJ7fxkRX``)."""
LIST_PARAMS = frozenset({"email", "limit", "starting_after", "ending_before", "expand"})

ReadOnlyCheck = tuple[Callable[[Any], bool], str]
"""A seed-only field's check and what it expects, for the error message."""


BOOLEAN: ReadOnlyCheck = (lambda v: isinstance(v, bool), "true or false")
NULLABLE_BOOLEAN: ReadOnlyCheck = (lambda v: v is None or isinstance(v, bool), "a boolean or null")
NULLABLE_STRING: ReadOnlyCheck = (lambda v: v is None or isinstance(v, str), "a string or null")
NULLABLE_OBJECT: ReadOnlyCheck = (lambda v: v is None or isinstance(v, dict), "an object or null")
CURRENCY: ReadOnlyCheck = (
    lambda v: v is None or (isinstance(v, str) and re.fullmatch(r"[A-Za-z]{3}", v) is not None),
    "a three-letter currency code or null",
)
READ_ONLY_FIELDS: dict[str, ReadOnlyCheck] = {
    "currency": CURRENCY,
    "default_source": NULLABLE_STRING,
    "delinquent": NULLABLE_BOOLEAN,
    "discount": NULLABLE_OBJECT,
    "livemode": BOOLEAN,
}
"""Read-only fields every Stripe-style customer seed may set; providers add their own."""
LIST_OBJECT: ReadOnlyCheck = (
    lambda v: isinstance(v, dict) and v.get("object") == "list" and isinstance(v.get("data"), list),
    'a list object ({"object": "list", "data": [...]})',
)


class CustomerShape:
    """One provider's customer object; subclasses fill in the hooks and the field tables."""

    provider: ClassVar[str] = ""
    api_version: ClassVar[str | None] = None
    """The ``api_version`` events carry (``None``: the API has no versions)."""
    create_params: ClassVar[frozenset[str]] = frozenset()
    update_params: ClassVar[frozenset[str]] = frozenset()
    list_params: ClassVar[frozenset[str]] = LIST_PARAMS
    seed_params: ClassVar[Mapping[str, Kind]] = {}
    """Writable fields a seed may carry, with their JSON type (seeded through the params)."""
    seed_fields: ClassVar[Mapping[str, ReadOnlyCheck]] = {}
    """Read-only fields a seed may set (``created`` and ``id`` are always allowed)."""

    # hooks ----------------------------------------------------------------------------------

    def defaults(self, customer_id: str, created: int) -> JSON:
        """A customer with every documented field at its default."""
        raise NotImplementedError

    def apply_params(self, obj: JSON, params: Mapping[str, Any]) -> None:
        """Apply validated parameters to ``obj`` in place; absent ones stay unchanged."""
        raise NotImplementedError

    def deleted_body(self, customer_id: str) -> JSON:
        """The body of a successful DELETE."""
        raise NotImplementedError

    def email_key(self, email: str) -> str:
        """What the list endpoint's ``email`` filter compares: equal keys match."""
        raise NotImplementedError

    def list_filter(self, params: Mapping[str, Any]) -> Callable[[JSON], bool]:
        """Extra list filters beyond ``email``; none by default."""
        return lambda obj: True

    # derived --------------------------------------------------------------------------------

    def email_matches(self, stored: str | None, wanted: str) -> bool:
        """The list endpoint's ``email`` filter."""
        return stored is not None and self.email_key(stored) == self.email_key(wanted)

    def new_customer(self, customer_id: str, created: int, params: Mapping[str, Any]) -> JSON:
        """A complete customer object built from create parameters (validated)."""
        obj = self.defaults(customer_id, created)
        self.apply_params(obj, params)
        return obj

    def seed(self, record: Any) -> JSON:
        """A seed record completed with defaults, or ``ValueError`` naming the bad field.

        A seed is refused for what the create API would refuse (through the same code) and
        for fields the object does not have; ``{"id": ..., "deleted": true}`` is a deleted
        customer.
        """
        if not isinstance(record, Mapping):
            raise ValueError(
                f"a {self.provider} customer must be an object, not {type(record).__name__}"
            )
        customer_id = record.get("id")
        if customer_id is None:
            customer_id = generate_id("cus_")
        if not isinstance(customer_id, str) or not CUSTOMER_ID.match(customer_id):
            raise ValueError(
                f"id: a {self.provider} customer id is 'cus_' followed by letters and digits, "
                f"not {customer_id!r}"
            )
        if record.get("object", "customer") != "customer":
            raise ValueError(f"{customer_id}: object: must be 'customer'")
        if "deleted" in record:
            extra = sorted(set(record) - {"id", "object", "deleted"})
            if record["deleted"] is not True or extra:
                raise ValueError(
                    f"{customer_id}: deleted: a deleted customer is exactly "
                    '{"id": ..., "object": "customer", "deleted": true}'
                )
            return {"id": customer_id, "object": "customer", "deleted": True}
        known = {"id", "object", "created", *self.seed_params, *self.seed_fields}
        unknown = sorted(set(record) - known)
        if unknown:
            raise ValueError(
                f"{customer_id}: {unknown[0]}: not a field of a {self.provider} customer"
            )
        created = record.get("created", 0)
        if not is_int(created):
            raise ValueError(f"{customer_id}: created: must be a unix timestamp (integer)")
        for name, (check, expected) in self.seed_fields.items():
            if name in record and not check(record[name]):
                raise ValueError(f"{customer_id}: {name}: must be {expected}, not {record[name]!r}")
        try:
            obj = self.new_customer(customer_id, created, wire_params(record, self.seed_params))
        except ApiError as error:
            raise ValueError(f"{customer_id}: {error.param or 'record'}: {error.message}") from None
        except ValueError as error:
            raise ValueError(f"{customer_id}: {error}") from None
        for name in self.seed_fields:
            if name in record:
                obj[name] = copy.deepcopy(record[name])
        return obj

    def seed_store(self, store: CustomerStore, records: Iterable[Any]) -> None:
        """Load seed records into ``store``; duplicate ids are an error."""
        for raw in records:
            obj = self.seed(raw)
            if store.id_exists(str(obj["id"])):
                raise ValueError(f"duplicate customer id in seed records: {obj['id']!r}")
            store.add(obj, deleted=bool(obj.get("deleted")), indexed=True)
