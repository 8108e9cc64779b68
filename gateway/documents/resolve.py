"""From a request's document reference to the query text that runs, or a refusal.

The HTTP view calls :meth:`PersistedDocuments.resolve_http` on the body it parsed, before
Strawberry parses the query, so a refused request executes nothing and fetches nothing, and an
APQ miss costs one dictionary look-up.

A request names a document in one of two ways:

- **Automatic Persisted Queries** (Apollo's protocol, which Apollo Client, Apollo Router and Hive
  Gateway speak): ``"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``,
  in a POST body or as the JSON-encoded ``extensions`` parameter of a GET. The shapes and
  messages below are Apollo Server's (``packages/server/src/requestPipeline.ts`` and
  ``internalErrorClasses.ts``; https://www.apollographql.com/docs/apollo-server/performance/apq):
  an unknown hash without a query is ``PersistedQueryNotFound`` with HTTP 200 (the client then
  resends the query with the hash), a hash that is not the sha256 of the query sent with it is
  ``provided sha does not match query`` with HTTP 400, and the query is stored only once it
  parses and, over GET, only if it is a query (Apollo stores it after resolving the operation
  and refusing GET mutations). The no-store ``Cache-Control`` on these answers is Apollo
  Server's too (apollo-server PR #2452), so a CDN does not keep a miss.
- **Trusted documents** (GraphQL-over-HTTP's persisted documents appendix, Hive Gateway and
  GraphQL Yoga): ``"documentId": "<id>"`` (``sha256:<hex>`` or the manifest's id) instead of a
  ``query``. Only registered documents are found this way.

With ``trusted_documents_only``, a request runs only if it names a registered document (either
way) or sends a query whose text is registered; APQ registration is off, since it would let
anyone register a document. The codes are Apollo Router's (``PERSISTED_QUERY_NOT_IN_LIST`` for
an id, ``QUERY_NOT_IN_SAFELIST`` for free-form text), always with HTTP 400.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from graphql import GraphQLError, OperationType
from strawberry.http import GraphQLRequestData

from gateway.config.casts import ConfigError
from gateway.documents.apq import QueryCache
from gateway.documents.manifest import Manifest, load_manifest, parse_query, sha256_hex
from gateway.errors import ErrorCode

if TYPE_CHECKING:
    from cross_web import AsyncHTTPRequestAdapter

    from gateway.config import Settings

__all__ = ["NO_STORE", "DocumentRefused", "PersistedDocuments", "names_document"]

NO_STORE: Final[Mapping[str, str]] = {"cache-control": "private, no-cache, must-revalidate"}
"""Sent with every refusal: an APQ miss must not be cached by a CDN in front of a GET."""

_NOT_TRUSTED: Final = (
    "this gateway runs only its registered (trusted) documents: send the id of a document "
    "from the frontend's persisted-documents manifest"
)


class DocumentRefused(Exception):
    """A request refused before anything was parsed or executed; the view answers it as a
    GraphQL error with this ``code`` and HTTP ``status``."""

    def __init__(self, message: str, code: ErrorCode, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.headers = NO_STORE


def names_document(params: Mapping[str, Any]) -> bool:
    """Whether a GET's parameters name an operation (a query, a document id or a persisted
    query hash) rather than ask for the GraphiQL page."""
    return any(key in params for key in ("query", "documentId", "extensions"))


@dataclass
class PersistedDocuments:
    """The trusted documents and the APQ store of one app."""

    manifest: Manifest = field(default_factory=Manifest)
    cache: QueryCache | None = None
    """The APQ store; ``None`` when APQ is off (size 0, or only trusted documents run)."""
    only_trusted: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedDocuments:
        """Loads and checks the manifest; :class:`ConfigError` for any problem (the config
        loader calls this too, so a bad manifest stops start-up)."""
        path, only = settings.trusted_documents, settings.trusted_documents_only
        if only and not path:
            raise ConfigError(
                "trusted_documents_only needs trusted_documents: the path of the manifest "
                "listing the documents that may run"
            )
        manifest = load_manifest(path) if path else Manifest()
        size = settings.apq_cache_size
        return cls(manifest, QueryCache(size) if size and not only else None, only)

    async def resolve_http(
        self, request: AsyncHTTPRequestAdapter, data: GraphQLRequestData | list[GraphQLRequestData]
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request data with its query resolved (see :meth:`resolve`). ``documentId`` is
        read from the GET parameters, or from the POST body when it carries no query."""
        if isinstance(data, list):  # a batch: documentId is not read per item
            return [self.resolve(item, method=request.method) for item in data]
        document_id: object = None
        if request.method == "GET":
            document_id = request.query_params.get("documentId")
        elif data.query is None and not (data.extensions or {}).get("persistedQuery"):
            # Strawberry's request data has no documentId: read it from the body, which
            # has already parsed as a JSON object (and, holding no query, is small).
            body = json.loads(await request.get_body())
            document_id = body.get("documentId") if isinstance(body, dict) else None
        return self.resolve(data, method=request.method, document_id=document_id)

    def resolve(
        self, data: GraphQLRequestData, *, method: str, document_id: object = None
    ) -> GraphQLRequestData:
        """``data`` with the query that should run, or :class:`DocumentRefused`."""
        reference, apq = _reference(data, document_id)
        query = data.query
        if reference is None:
            if self.only_trusted and query is not None and not self.manifest.with_text(query):
                raise DocumentRefused(_NOT_TRUSTED, ErrorCode.QUERY_NOT_IN_SAFELIST, 400)
            return data
        document = self.manifest.find(reference)
        if query is not None:  # APQ: a hash with its query (a registration)
            if reference != sha256_hex(query) and (document is None or document.body != query):
                raise DocumentRefused(
                    "provided sha does not match query", ErrorCode.BAD_REQUEST, 400
                )
            if document is None:
                _register(self._apq_store(apq), reference, query, method, data.operation_name)
            return data
        if document is not None:
            return replace(data, query=document.body)
        cached = self._apq_store(apq).get(reference)
        if cached is None:
            raise DocumentRefused(
                "PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND, 200
            )
        return replace(data, query=cached)

    def _apq_store(self, apq: bool) -> QueryCache:
        """The APQ store, for a reference the manifest does not hold; or the refusal when that
        reference cannot be an APQ one (a ``documentId``, or only trusted documents run)."""
        if self.only_trusted or not apq:
            raise DocumentRefused(
                _NOT_TRUSTED if self.only_trusted else "no document is registered under that id",
                ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
                400,
            )
        if self.cache is None:
            raise DocumentRefused(
                "PersistedQueryNotSupported", ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED, 200
            )
        return self.cache


def _register(
    cache: QueryCache, sha256: str, query: str, method: str, operation_name: str | None
) -> None:
    """Stores an APQ query that parses and, over GET, is a query. Anything else is left for
    the GraphQL layer to answer (parse error, unknown operation, mutation over GET), unstored."""
    try:
        operations = parse_query(query)
    except GraphQLError:
        return
    chosen = [op for op in operations if op.name and op.name.value == operation_name]
    if operation_name is None:
        chosen = operations if len(operations) == 1 else []
    if len(chosen) != 1:
        return
    if method == "GET" and chosen[0].operation is not OperationType.QUERY:
        return
    cache.put(sha256, query)


def _reference(data: GraphQLRequestData, document_id: object) -> tuple[str | None, bool]:
    """The document the request names (and whether by APQ), checking the protocol's shapes."""
    persisted = (data.extensions or {}).get("persistedQuery")
    if persisted is not None:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise DocumentRefused("Unsupported persisted query version", ErrorCode.BAD_REQUEST, 400)
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not sha256:
            raise DocumentRefused(
                "extensions.persistedQuery.sha256Hash must be a non-empty string",
                ErrorCode.BAD_REQUEST,
                400,
            )
        return sha256, True
    if data.query is None and document_id is not None:
        if not isinstance(document_id, str) or not document_id:
            raise DocumentRefused(
                "documentId must be a non-empty string", ErrorCode.BAD_REQUEST, 400
            )
        return document_id, False
    return None, False
