"""Dataset files: :func:`load_dataset` reads one (``Dataset.dumps`` writes one).

The loader checks only what is the same for every provider (the JSON shape, each record's id
being present and unique within its provider); what a provider accepts is its simulator's
``seed_record``'s to say, through :meth:`Dataset.check`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.providers.registry import PROVIDERS
from gateway.sandbox.dataset.model import ID_FIELDS, Dataset, DatasetError


def load_dataset(path: str | Path) -> Dataset:
    """Read and check a dataset file (see docs/dataset.md); a missing provider key means no
    records. Every problem is a :class:`DatasetError` naming the file, provider and index."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read dataset file: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DatasetError(
            f"{path}: expected a JSON object with provider keys, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(PROVIDERS))
    if unknown:
        raise DatasetError(
            f"{path}: unknown provider key(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(PROVIDERS)}"
        )
    dataset = Dataset({name: _records(path, name, data.get(name, [])) for name in PROVIDERS})
    dataset.check(path)
    return dataset


def _records(path: Path, provider: str, value: Any) -> list[dict[str, Any]]:
    """One provider's list: objects, each with a present id unique within the provider."""
    where = f"{path}: {provider}"
    if not isinstance(value, list):
        raise DatasetError(f"{where}: expected a list of records, got {type(value).__name__}")
    id_field = ID_FIELDS[provider]
    first_seen: dict[str | int, int] = {}
    for index, record in enumerate(value):
        at = f"{where}[{index}]"
        if not isinstance(record, dict):
            raise DatasetError(f"{at}: expected a record object, got {type(record).__name__}")
        key = record.get(id_field)
        if key is None:
            raise DatasetError(f"{at}: missing id field {id_field!r}")
        if isinstance(key, bool) or not isinstance(key, str | int) or str(key).strip() == "":
            raise DatasetError(
                f"{at}: {id_field} must be a non-blank string or an integer, not {key!r}"
            )
        if key in first_seen:
            raise DatasetError(
                f"{at}: duplicate {id_field} {key!r} (first used by {provider}[{first_seen[key]}])"
            )
        first_seen[key] = index
    return value
