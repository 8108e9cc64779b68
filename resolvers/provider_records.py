"""``Customer.<provider>`` list fields: one per registered provider, made from its spec.

Each provider declares its GraphQL record type in its own package (``spec.graphql_type``,
``module:Class``) and the ``Customer`` field it answers under (``spec.graphql_field``). This
module imports those types (the domain core never does) and adds the fields, so a new provider
appears in the schema without an edit here.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Mapping
from functools import cache
from typing import Any, Protocol, TypeVar

import strawberry

from gateway.errors import ProviderError, ProviderFailed
from gateway.identity import MergedCustomer
from gateway.providers.registry import SPECS
from gateway.providers.spec import ProviderSpec

__all__ = ["add_provider_fields", "record_type"]

C = TypeVar("C", bound=type)


class _HasRecords(Protocol):
    merged: MergedCustomer
    errors: Mapping[str, ProviderError]


def record_type(spec: ProviderSpec) -> type[Any]:
    """The provider's GraphQL record type, imported from the path its spec names."""
    return _import(spec.graphql_type)


@cache
def _import(path: str) -> type[Any]:
    module_name, _, attribute = path.partition(":")
    found: type[Any] = getattr(importlib.import_module(module_name), attribute)
    return found


def _records_field(spec: ProviderSpec) -> Any:
    kind = record_type(spec)

    def resolve(root: _HasRecords) -> list[Any] | None:
        """The provider's records of this customer; ``null`` (with an error) if it failed."""
        if (error := root.errors.get(spec.name)) is not None:
            raise ProviderFailed(error)
        return [kind(record=r) for r in root.merged.records if r.provider == spec.name]

    return strawberry.field(
        resolver=resolve,
        graphql_type=types.GenericAlias(list, (kind,)) | None,
        description=spec.graphql_description,
    )


def add_provider_fields(*, before: str) -> Any:
    """A class decorator inserting one list field per provider ahead of the field ``before``,
    so the fields keep the schema's order (unified fields, providers, provenance)."""

    def decorate(cls: C) -> C:
        names = [name for name in vars(cls) if not name.startswith("__")]
        trailing = {name: vars(cls)[name] for name in names[names.index(before) :]}
        for name in trailing:
            delattr(cls, name)
        for spec in SPECS:
            setattr(cls, spec.graphql_field, _records_field(spec))
        for name, value in trailing.items():
            setattr(cls, name, value)
        return cls

    return decorate
