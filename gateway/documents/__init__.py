"""Automatic Persisted Queries and trusted documents: which query text a request runs.

:mod:`~gateway.documents.manifest` loads the frontend's persisted-documents manifest,
:mod:`~gateway.documents.apq` is the bounded per-process APQ store, and
:mod:`~gateway.documents.resolve` turns a request's hash or document id into its query (or a
refusal) before the GraphQL layer parses anything. docs/security.md explains the modes.
"""

from gateway.documents.apq import QueryCache
from gateway.documents.manifest import Document, Manifest, load_manifest, sha256_hex
from gateway.documents.resolve import (
    NO_STORE,
    DocumentRefused,
    PersistedDocuments,
    names_document,
)

__all__ = [
    "NO_STORE",
    "Document",
    "DocumentRefused",
    "Manifest",
    "PersistedDocuments",
    "QueryCache",
    "load_manifest",
    "names_document",
    "sha256_hex",
]
