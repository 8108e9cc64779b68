"""Personal data masked for callers without the ``customers:pii`` scope, in one place.

Emails, phone numbers and addresses are what identify a person; a support tool or a router
often needs a customer's name, ids and metrics but not those. Rather than every resolver
checking the scope, :func:`protect_pii` wraps the resolvers of the fields that carry them
(on ``Customer``, on every provider record type, and where the identity explanation repeats a
value) once the schema is built: other fields cost nothing, and a new provider's record type is
covered by implementing ``ProviderRecord``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any, Final

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, default_field_resolver

from gateway.auth.scopes import Scope
from gateway.providers.upstream.redact import without_paths
from resolvers.identity import MatchRule

__all__ = ["mask_email", "mask_emails_in", "mask_phone", "protect_pii", "redact"]

Mask = Callable[[Any, Any], Any]
"""``mask(root, value)``: what a caller without the scope sees instead of ``value``."""

HIDDEN: Final = "***"
_EMAIL: Final = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_ADDRESS_KEYS: Final = frozenset(
    {"line1", "line2", "city", "state", "zip", "zipcode", "postal_code", "postcode"}
)
# E.164 country codes: 1 and 7 are one digit, these two digits, every other three.
_TWO_DIGIT_CODES: Final = frozenset(
    str(code)
    for codes in (
        (20, 27, *range(30, 35), 36, 39, 40, 41, *range(43, 50), *range(51, 59)),
        (*range(60, 67), 81, 82, 84, 86, *range(90, 96), 98),
    )
    for code in codes
)


def mask_email(value: str) -> str:
    """``ada@lovelace.example`` -> ``a***@lovelace.example``: the domain stays (it says which
    company), the mailbox does not."""
    local, at, domain = value.rpartition("@")
    return f"{local[:1]}{HIDDEN}@{domain}" if at and local else HIDDEN


def mask_emails_in(text: str) -> str:
    """Every email inside ``text`` masked (messages that quote one, free-text fields)."""
    return _EMAIL.sub(lambda found: mask_email(found.group()), text)


def mask_phone(value: str) -> str:
    """``+442079460100`` or ``+44 20 7946 0100`` -> ``+44 ****** 00``: the country code and
    the last two digits, enough to tell two numbers apart on a call."""
    digits = "".join(c for c in value if c.isdigit())
    code = ""
    if value.lstrip().startswith("+") and digits:
        size = 1 if digits[0] in "17" else 2 if digits[:2] in _TWO_DIGIT_CODES else 3
        code, digits = digits[:size], digits[size:]
    if len(digits) < 4:
        return "******"
    return f"{'+' + code + ' ' if code else ''}****** {digits[-2:]}"


def redact(value: Any, key: str = "") -> Any:
    """A provider's raw object without its personal data: email and phone values masked,
    addresses (objects and their flat fields) removed, email-like strings masked anywhere."""
    name = key.lower()
    if isinstance(value, str):
        if "email" in name:
            return mask_email(value)
        if "phone" in name:
            return mask_phone(value)
        if "address" not in name and name not in _ADDRESS_KEYS:
            return mask_emails_in(value)
    if "address" in name or name in _ADDRESS_KEYS:
        return None
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, key) for item in value]
    return value


def _each(mask: Callable[[str], str]) -> Mask:
    return lambda root, value: mask(value) if isinstance(value, str) else [mask(v) for v in value]


def _hidden(root: Any, value: Any) -> None:
    return None


def _edge_value(root: Any, value: str) -> str:
    """An email edge's value is the email; an override's is an operator's free-text reason."""
    if root.rule is MatchRule.EMAIL:
        return mask_email(value)
    return mask_emails_in(value) if root.rule is MatchRule.OVERRIDE else value


_BY_FIELD: Final[Mapping[str, Callable[[str], str]]] = {
    "email": mask_email,
    "phone": mask_phone,
    "address": lambda value: HIDDEN,
}


def _conflict_values(root: Any, values: list[str]) -> list[str]:
    mask = _BY_FIELD.get(root.field or "")
    return values if mask is None else [mask(v) for v in values]


_RECORD: Final[Mapping[str, Mask]] = {
    "email": _each(mask_email),
    "phone": _each(mask_phone),
    "address": _hidden,
    "raw": lambda root, value: redact(value),
}
MASKS: Final[Mapping[str, Mapping[str, Mask]]] = {
    "Customer": {
        "email": _each(mask_email),
        "emails": _each(mask_email),
        "phone": _each(mask_phone),
        "address": _hidden,
    },
    "MatchEdge": {"value": _edge_value},
    "ProviderOutcome": {"message": _each(without_paths)},
    "IdentityConflict": {
        "email": _each(mask_email),
        "values": _conflict_values,
        "message": _each(mask_emails_in),
    },
}
"""Per GraphQL type, the fields holding personal data; every ``ProviderRecord`` type gets
:data:`_RECORD`."""


def _masked(resolve: Callable[..., Any], mask: Mask) -> Callable[..., Any]:
    def resolver(root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        value = resolve(root, info, **args)
        principal = getattr(info.context, "principal", None)
        if value is None or (principal is not None and principal.allows(Scope.PII)):
            return value
        if isawaitable(value):
            return _later(value, root, mask)
        return mask(root, value)

    return resolver


async def _later(value: Any, root: Any, mask: Mask) -> Any:
    found = await value
    return None if found is None else mask(root, found)


def protect_pii(schema: GraphQLSchema) -> None:
    """Wrap the resolvers of every personal-data field of ``schema`` (once per schema)."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        masks = dict(MASKS.get(graphql_type.name, {}))
        if any(i.name == "ProviderRecord" for i in graphql_type.interfaces):
            masks.update(_RECORD)
        for name, mask in masks.items():
            field = graphql_type.fields.get(name)
            if field is not None:
                field.resolve = _masked(field.resolve or default_field_resolver, mask)
