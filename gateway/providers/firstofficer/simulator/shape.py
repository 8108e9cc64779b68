"""The FirstOfficer customer object: its fields, defaults and the value rules the API enforces.

:func:`seed_record` checks a dataset record with the same rules the create and update routes
apply to request params (:func:`check_email`, :func:`check_stripe_id`), plus the field and
type checks a record in the API's own shape needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateway.sandbox.coerce import is_int, optional_text, refuse_unknown

STRING_FIELDS: Final = ("stripe_id", "extra_id", "email", "name", "currency", "country", "state")
INT_FIELDS: Final = ("total_contract_value", "current_mrr", "current_subscription_count")
FIELDS: Final = frozenset({"object", "id", *STRING_FIELDS, *INT_FIELDS})
"""Every key of the customer object; a seed with any other key is refused."""


class Refused(ValueError):
    """A value FirstOfficer answers 400 for; ``param`` names the field, ``message`` is the API's
    text. ``str()`` leads with the field so a refused dataset record says which one."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def check_email(email: str) -> None:
    """FirstOfficer keys customers by email: it must at least look like one."""
    if not email or "@" not in email:
        raise Refused("email", f"Invalid email address: '{email}'.")


def check_stripe_id(stripe_id: str) -> None:
    """The link to Stripe holds a Stripe customer id, never another Stripe object's."""
    if not stripe_id.startswith("cus_"):
        raise Refused("stripe_id", f"Invalid Stripe customer id: '{stripe_id}'.")


def _check_id(value: Any) -> int | None:
    if value is None:
        return None
    if not is_int(value):
        raise ValueError(f"id must be an integer, not {value!r}")
    if value < 1:
        raise ValueError(f"id must be a positive integer, not {value!r}")
    return int(value)


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A full customer object from a possibly minimal one; ``ValueError`` naming the field when
    FirstOfficer could not hold it.

    ``id`` is kept when given; without one it stays ``None`` until a store assigns the next free
    id. The create route builds its customers here too.
    """
    if not isinstance(record, Mapping):
        raise ValueError("a FirstOfficer customer must be a JSON object")
    refuse_unknown(record, FIELDS, "FirstOfficer customer")
    if record.get("object", "customer") != "customer":
        raise ValueError("object must be 'customer'")
    out: dict[str, Any] = {"object": "customer", "id": _check_id(record.get("id"))}
    for key in ("stripe_id", "extra_id", "email", "name"):
        out[key] = optional_text(record, key)
    for key in INT_FIELDS:
        value = record.get(key, 0)
        if not is_int(value):
            raise ValueError(f"{key} must be an integer (cents or a count), not {value!r}")
        out[key] = value
    out["currency"] = (optional_text(record, "currency") or "usd").lower()
    out["country"] = optional_text(record, "country")
    out["state"] = optional_text(record, "state")
    if out["stripe_id"] is not None:
        check_stripe_id(out["stripe_id"])
    if out["email"] is not None:
        check_email(out["email"])
    return out
