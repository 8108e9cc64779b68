"""The :class:`Dataset` container: records per registered provider, and :class:`DatasetError`."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from gateway.providers.registry import PROVIDERS, SPECS

ID_FIELDS: Final[Mapping[str, str]] = {s.name: s.dataset_id_field for s in SPECS}
"""The field that identifies a record within its provider (unique per provider in a dataset)."""


class DatasetError(ValueError):
    """A dataset a human must fix; the message names the file (if any), provider and record."""


class Dataset:
    """Records per registered provider, each in that provider's own (possibly minimal) API shape.

    ``Dataset({"stripe": [...]})`` or ``Dataset(stripe=[...])``; providers left out have none.
    Immutable: the records are copied in and handed out as tuples.
    """

    __slots__ = ("_checked", "_records")

    def __init__(
        self,
        records: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        /,
        **by_provider: Sequence[Mapping[str, Any]],
    ) -> None:
        given = {**(records or {}), **by_provider}
        if unknown := sorted(set(given) - set(PROVIDERS)):
            raise ValueError(
                f"unknown provider(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(PROVIDERS)}"
            )
        self._records: dict[str, tuple[dict[str, Any], ...]] = {
            name: tuple(dict(record) for record in given.get(name, ())) for name in PROVIDERS
        }
        self._checked = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self._records == other._records

    def __hash__(self) -> int:
        return hash(self.dumps())

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(records)}" for name, records in self._records.items())
        return f"Dataset({counts})"

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """A deep copy in the file format, so callers can't alter the dataset through it."""
        return {name: copy.deepcopy(list(records)) for name, records in self._records.items()}

    def dumps(self) -> str:
        """The dataset as a JSON file's text (stable: the same dataset gives the same bytes)."""
        return json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n"

    def for_provider(self, name: str) -> Sequence[Mapping[str, Any]]:
        """One provider's records by name, as the sandbox cluster looks them up."""
        if name not in self._records:
            raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(PROVIDERS)}")
        return self._records[name]

    def check(self, source: str | Path | None = None) -> None:
        """Run every record through its provider's ``simulator.seed_record``, the one judge of
        what that provider accepts; raise :class:`DatasetError` naming
        ``<source>: <provider>[<index>]`` for the first record it refuses.

        A dataset that passed is not checked again (it is immutable), so a loaded file, checked
        by :func:`load_dataset`, costs the sandbox cluster no second pass.
        """
        if self._checked:
            return
        prefix = "" if source is None else f"{source}: "
        for spec in SPECS:
            for index, record in enumerate(self._records[spec.name]):
                try:
                    spec.simulator.seed_record(record)
                except (ValueError, TypeError) as exc:
                    raise DatasetError(f"{prefix}{spec.name}[{index}]: {exc}") from exc
        self._checked = True
