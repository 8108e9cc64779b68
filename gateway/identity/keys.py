"""Link keys: the ids two records must share to be the same customer.

Which raw fields hold which kind of id is configuration (``IdentitySettings.link_rules``):
namespace -> ``"provider:path"`` strings. A path is dotted into the provider's raw object;
a segment ending in ``[]`` spreads a list, and ``{external_id_key}`` inside a segment becomes
``IdentitySettings.external_id_metadata_key`` (substituted after splitting, so a metadata key
containing a dot stays one segment). Strings are trimmed and integers stringified; empty,
missing and non-scalar values are skipped.

Values in the ``stripe_id`` namespace must look like a Stripe customer id (``cus_`` plus
alphanumerics). ChartMogul's own uuids also start ``cus_`` (``cus_<8-4-4-4-12 hex>``), so
anything UUID-shaped after the prefix is rejected, hyphenated or not.

Namespaces named like a :class:`Lookup` (``stripe_id``, ``external_id``) double as lookups:
:func:`expansion_lookups` turns a record's keys into the further lookups the gateway makes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from gateway.config import ConfigError, IdentitySettings
from gateway.identity.emails import normalise_email
from gateway.model import CustomerRecord, Lookup

__all__ = [
    "MatchKey",
    "email_key",
    "expansion_lookups",
    "is_stripe_customer_id",
    "plan_next_hop",
    "record_keys",
]

STRIPE_NAMESPACE: Final = "stripe_id"
EXTERNAL_ID_PLACEHOLDER: Final = "{external_id_key}"
_STRIPE_ID: Final = re.compile(r"cus_[A-Za-z0-9]+")
_NAMESPACE_LOOKUPS: Final = {
    Lookup.STRIPE_ID.value: Lookup.STRIPE_ID,
    Lookup.EXTERNAL_ID.value: Lookup.EXTERNAL_ID,
}


@dataclass(frozen=True, slots=True, order=True)
class MatchKey:
    """One shared id: records with equal keys are linked."""

    namespace: str
    value: str


@dataclass(frozen=True, slots=True)
class _Segment:
    key: str
    spread: bool


@dataclass(frozen=True, slots=True)
class _Rule:
    provider: str
    segments: tuple[_Segment, ...]


@lru_cache(maxsize=4096)
def is_stripe_customer_id(value: str) -> bool:
    """True for ``cus_<alphanumerics>`` that is not a ChartMogul ``cus_<uuid>`` (kept: every
    record of a page asks this of the same few ids, and parsing a UUID is not free)."""
    if not _STRIPE_ID.fullmatch(value):
        return False
    try:
        uuid.UUID(value[4:])
    except ValueError:
        return True
    return False


@lru_cache(maxsize=256)
def _parse_rule(rule: str, external_id_key: str) -> _Rule:
    """Parse ``provider:path`` once; a malformed rule is a configuration error."""
    provider, colon, path = rule.partition(":")
    provider, path = provider.strip(), path.strip()
    if not colon or not provider or not path:
        raise ConfigError(f"identity.link_rules: {rule!r} is not 'provider:path'")
    segments = []
    for part in path.split("."):
        spread = part.endswith("[]")
        key = part[:-2] if spread else part
        if not key:
            raise ConfigError(f"identity.link_rules: {rule!r} has an empty path segment")
        segments.append(_Segment(key.replace(EXTERNAL_ID_PLACEHOLDER, external_id_key), spread))
    return _Rule(provider, tuple(segments))


def _walk(node: Any, segments: tuple[_Segment, ...]) -> Iterator[Any]:
    """Yield every value the path reaches, spreading lists where the path says ``[]``."""
    if not segments:
        yield node
        return
    head, rest = segments[0], segments[1:]
    if not isinstance(node, Mapping) or head.key not in node:
        return
    child = node[head.key]
    if head.spread:
        if isinstance(child, list | tuple):
            for item in child:
                yield from _walk(item, rest)
        return
    yield from _walk(child, rest)


def _scalar(value: Any) -> str | None:
    """A usable key value: a non-blank string or an integer, else ``None``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def record_keys(record: CustomerRecord, settings: IdentitySettings) -> frozenset[MatchKey]:
    """Every link key the record's raw object holds, per the configured rules."""
    keys: set[MatchKey] = set()
    for namespace, rules in settings.link_rules.items():
        for text in rules:
            rule = _parse_rule(text, settings.external_id_metadata_key)
            if rule.provider != record.provider:
                continue
            for found in _walk(record.raw, rule.segments):
                value = _scalar(found)
                if value is None:
                    continue
                if namespace == STRIPE_NAMESPACE and not is_stripe_customer_id(value):
                    continue
                keys.add(MatchKey(namespace, value))
    return frozenset(keys)


def email_key(record: CustomerRecord, settings: IdentitySettings) -> str | None:
    """The record's email in matching form, or ``None`` when it must not match."""
    return normalise_email(record.email, settings.placeholder_emails)


def expansion_lookups(
    record: CustomerRecord, settings: IdentitySettings
) -> frozenset[tuple[Lookup, str]]:
    """The lookups this record implies: its email and its link keys that are lookups."""
    lookups: set[tuple[Lookup, str]] = set()
    if (email := email_key(record, settings)) is not None:
        lookups.add((Lookup.EMAIL, email))
    for key in record_keys(record, settings):
        if (lookup := _NAMESPACE_LOOKUPS.get(key.namespace)) is not None:
            lookups.add((lookup, key.value))
    return frozenset(lookups)


def plan_next_hop(
    seen_lookups: Iterable[tuple[Lookup, str]],
    records: Iterable[CustomerRecord],
    settings: IdentitySettings,
) -> set[tuple[Lookup, str]]:
    """Lookups the fetched records imply that have not been made yet (deleted ones imply none).

    The gateway loops: fetch these, add them to ``seen``, plan again, until the plan is empty
    or it hits ``max_hops``/``max_records``.
    """
    seen = set(seen_lookups)
    wanted: set[tuple[Lookup, str]] = set()
    for record in records:
        if not record.deleted:
            wanted |= expansion_lookups(record, settings)
    return wanted - seen
