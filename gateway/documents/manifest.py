"""The trusted-documents manifest: the operations a frontend build registered, loaded once.

Two formats are read, the two the common toolchains write:

- a JSON object ``{"<id>": "<document>"}``: GraphQL Code Generator's client preset
  (``persisted-documents.json``, ids sha1 or sha256 of the text), Relay's
  ``persisted_queries.json`` and similar;
- Apollo's ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
  [{"id", "name", "type", "body"}]}`` (``@apollo/generate-persisted-query-manifest``; ids are
  the sha256 of ``body``).

Every document must parse, and an id that is a content hash (40 hex digits: sha1, 64 or
``sha256:`` + 64: sha256) must be the hash of its text, so a manifest that went stale or was
edited by hand stops start-up instead of refusing requests later. Other ids are opaque.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from graphql import GraphQLError, OperationDefinitionNode, parse

from gateway.config.casts import ConfigError

__all__ = ["APOLLO_FORMAT", "Document", "Manifest", "load_manifest", "parse_query", "sha256_hex"]

APOLLO_FORMAT: Final = "apollo-persisted-query-manifest"
_HEX64: Final = re.compile(r"[0-9a-fA-F]{64}")
_HEX40: Final = re.compile(r"[0-9a-fA-F]{40}")
_SHA256_PREFIX: Final = "sha256:"
"""The GraphQL-over-HTTP persisted documents appendix's prefix for sha256 document ids."""


def sha256_hex(text: str) -> str:
    """The lowercase hex sha256 of the text's UTF-8 bytes, as Apollo's clients compute it.
    A lone surrogate (valid JSON, invalid UTF-8) is hashed rather than crashing the request."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def normalise_id(document_id: str) -> str:
    """``sha256:<hex>`` and bare hex name the same document; hex compares in lower case."""
    if document_id.startswith(_SHA256_PREFIX) and _HEX64.fullmatch(document_id[7:]):
        return document_id[7:].lower()
    if _HEX64.fullmatch(document_id) or _HEX40.fullmatch(document_id):
        return document_id.lower()
    return document_id


def parse_query(text: str) -> list[OperationDefinitionNode]:
    """The operations in ``text``; raises :class:`GraphQLError` when it does not parse or has
    more tokens than the schema's limit (the same bound every request is parsed under)."""
    from resolvers.limits import MAX_TOKENS  # late: the resolvers import the settings

    document = parse(text, max_tokens=MAX_TOKENS)
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


@dataclass(frozen=True, slots=True)
class Document:
    """One registered operation document."""

    id: str
    body: str
    sha256: str


class Manifest(Mapping[str, Document]):
    """Registered documents by id, also found by the sha256 of their text (so a client that
    hashes with sha256 finds a document a sha1 manifest registered)."""

    def __init__(self, documents: Mapping[str, Document] | None = None) -> None:
        self._by_id = dict(documents or {})
        self._by_hash = {d.sha256: d for d in self._by_id.values()}

    def __getitem__(self, key: str) -> Document:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def find(self, reference: str) -> Document | None:
        """The document an id or a sha256 names (``sha256:`` prefix allowed), or ``None``."""
        key = normalise_id(reference)
        return self._by_id.get(key) or self._by_hash.get(key)

    def with_text(self, query: str) -> Document | None:
        """The document whose text is exactly ``query``, or ``None``."""
        return self._by_hash.get(sha256_hex(query))


def load_manifest(path: str | Path) -> Manifest:
    """The manifest at ``path``, every document checked; :class:`ConfigError` names the
    first problem (setting, file and id)."""
    where = f"trusted_documents ({path})"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(data).__name__}")
    entries = _apollo_entries(data, where) if "format" in data else _map_entries(data, where)
    documents: dict[str, Document] = {}
    for raw_id, body, kind in entries:
        document = _document(raw_id, body, kind, where)
        if document.id in documents:
            raise ConfigError(f"{where}: document id {raw_id!r} appears twice")
        documents[document.id] = document
    return Manifest(documents)


def _map_entries(data: Mapping[str, Any], where: str) -> Iterator[tuple[str, str, str | None]]:
    for key, body in data.items():
        if not isinstance(body, str):
            raise ConfigError(f"{where}: document {key!r}: expected the document text, a string")
        yield key, body, None


def _apollo_entries(data: Mapping[str, Any], where: str) -> Iterator[tuple[str, str, str | None]]:
    if data.get("format") != APOLLO_FORMAT or data.get("version") != 1:
        raise ConfigError(
            f'{where}: expected "format": "{APOLLO_FORMAT}" with "version": 1, or an object '
            f"of document id -> text; got format {data.get('format')!r}, "
            f"version {data.get('version')!r}"
        )
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ConfigError(f'{where}: "operations" must be a list')
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ConfigError(f"{where}: operations[{index}] must be an object")
        raw_id, body, kind = operation.get("id"), operation.get("body"), operation.get("type")
        if not isinstance(raw_id, str) or not raw_id or not isinstance(body, str):
            raise ConfigError(f'{where}: operations[{index}] needs a string "id" and "body"')
        if kind is not None and kind not in ("query", "mutation", "subscription"):
            raise ConfigError(f"{where}: operations[{index}]: unknown type {kind!r}")
        yield raw_id, body, kind


def _document(raw_id: str, body: str, kind: str | None, where: str) -> Document:
    name = f"{where}: document {raw_id!r}"
    try:
        operations = parse_query(body)
    except GraphQLError as exc:
        raise ConfigError(f"{name} does not parse: {exc.message}") from None
    if not operations:
        raise ConfigError(f"{name} holds no operation")
    if kind is not None and kind not in {op.operation.value for op in operations}:
        raise ConfigError(f"{name} is declared a {kind} but holds none")
    key = normalise_id(raw_id)
    digest = sha256_hex(body)
    if _HEX64.fullmatch(key) and key != digest:
        raise ConfigError(f"{name}: the id is not the sha256 of the document (that is {digest})")
    if _HEX40.fullmatch(key) and key != (sha1 := _sha1_hex(body)):
        raise ConfigError(f"{name}: the id is not the sha1 of the document (that is {sha1})")
    return Document(id=key, body=body, sha256=digest)
