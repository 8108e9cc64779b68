"""Settings that look misspelt: ``STRPE_API_KEY``, ``LAGO_APIKEY``, ``providers.strpe``.

A misspelt variable is silently ignored by a loader that only reads the names it knows, and the
gateway then runs without the setting (or on the sandbox). Every known variable name is derived
from the provider registry and :mod:`gateway.config.schema`, so the check needs no list of its
own. A variable is only suspected when it looks like ours: its head (before some ``_``) is close
to a provider's prefix, ``CUSTOMER_GATEWAY`` or ``SANDBOX``, and its rest close to a setting of
that family. ``PATH``, ``HOME`` or another program's ``STRIPE_WEBHOOK_SECRET`` never are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher, get_close_matches
from typing import Final

from gateway.config import auth_schema, schema

__all__ = ["Misspelt", "closest", "known_variables", "misspelt_variables"]

HEAD_CUTOFF: Final = 0.8
"""How close a name's head must be to one of our prefixes for the name to look like ours."""
REST_CUTOFF: Final = 0.6
"""How close the rest must be to a setting of that prefix (difflib's default)."""

_GATEWAY: Final = "CUSTOMER_GATEWAY"
_SANDBOX: Final = "SANDBOX"


def closest(word: str, known: Iterable[str], cutoff: float = REST_CUTOFF) -> str | None:
    """The known word ``word`` most likely meant, if any is close enough."""
    found = get_close_matches(word, list(known), n=1, cutoff=cutoff)
    return found[0] if found else None


def known_variables() -> frozenset[str]:
    """Every variable the gateway reads: each provider's settings, the gateway-wide and
    identity settings, the config file's path and the sandbox's keys."""
    from gateway.providers.registry import SPECS

    names = {schema.CONFIG_ENV}
    names.update(
        s.env
        for s in (
            *schema.GATEWAY,
            *schema.IDENTITY,
            *auth_schema.AUTH,
            *auth_schema.AUTH_JWT,
            *auth_schema.AUTH_RATE,
        )
        if s.env
    )
    for spec in SPECS:
        names.update(f"{spec.env_prefix}_{s.env}" for s in schema.PROVIDER if s.env)
        names.add(f"{_SANDBOX}_{spec.env_prefix}_KEY")
    return frozenset(names)


@dataclass(frozen=True, slots=True, order=True)
class Misspelt:
    """A variable set in the environment and the known name it most likely meant."""

    name: str
    meant: str

    def __str__(self) -> str:
        return f"{self.name} (did you mean {self.meant}?)"


def misspelt_variables(env: Mapping[str, str]) -> list[Misspelt]:
    """The non-empty variables in ``env`` that look like a misspelt known variable, sorted."""
    known = known_variables()
    families = _families(known)
    found = []
    for name, value in env.items():
        if not value or name in known:
            continue
        meant = _meant(name, known, families)
        if meant is not None:
            found.append(Misspelt(name, meant))
    return sorted(found)


def _families(known: Collection[str]) -> dict[str, set[str]]:
    """Prefix -> the rests of the known names under it (``STRIPE`` -> ``API_KEY``, ...)."""
    from gateway.providers.registry import SPECS

    heads = [_GATEWAY, _SANDBOX, *(spec.env_prefix for spec in SPECS)]
    families: dict[str, set[str]] = {head: set() for head in heads}
    for name in known:
        for head in heads:
            if name.startswith(f"{head}_"):
                families[head].add(name[len(head) + 1 :])
    return families


def _meant(
    name: str, known: Collection[str], families: Mapping[str, Collection[str]]
) -> str | None:
    upper = name.upper()
    if upper in known:  # stripe_api_key: the right name in the wrong case
        return upper
    best: tuple[float, str] | None = None
    for cut in (i for i, char in enumerate(upper) if char == "_"):
        head, rest = upper[:cut], upper[cut + 1 :]
        for family, rests in families.items():
            head_score = SequenceMatcher(None, head, family).ratio()
            if head_score < HEAD_CUTOFF:
                continue
            for candidate in get_close_matches(rest, list(rests), n=1, cutoff=REST_CUTOFF):
                score = head_score + SequenceMatcher(None, rest, candidate).ratio()
                if best is None or score > best[0]:
                    best = (score, f"{family}_{candidate}")
    return None if best is None else best[1]
