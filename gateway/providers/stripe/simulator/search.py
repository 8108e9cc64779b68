"""Stripe's customer search query language, its index keys and ``next_page`` tokens.

Grammar (docs.stripe.com/search): clauses ``[-]field<op>value`` joined by spaces, ``AND`` or
``OR`` (not mixed, no parentheses, at most ten); fields ``created``, ``email``, ``metadata``,
``name``, ``phone``. Parse errors are 400 :class:`ApiError` s naming ``query``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.providers.stripe_like.simulator import ApiError, StoredCustomer

SEARCH_FIELDS = ("created", "email", "metadata", "name", "phone")
SEARCH_INDEX = "search"
SearchKey = tuple[str, ...]
"""``("email", casefolded email)`` or ``("metadata", key, value)``."""


def search_keys(obj: Mapping[str, Any]) -> list[SearchKey]:
    """The index keys of one searchable version: its email (casefolded) and metadata pairs."""
    keys: list[SearchKey] = []
    email = obj.get("email")
    if email is not None:
        keys.append(("email", str(email).casefold()))
    metadata = obj.get("metadata") or {}
    if isinstance(metadata, Mapping):
        keys.extend(("metadata", k, v) for k, v in metadata.items() if isinstance(v, str))
    return keys


MAX_CLAUSES = 10
_NUMERIC_OPS = (">=", "<=", ">", "<", ":")


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``[-]field<op>value`` term; ``value`` None is the ``null`` keyword."""

    field: str
    key: str | None
    op: str
    value: str | int | None
    negated: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return self._test(obj) != self.negated

    def index_key(self) -> SearchKey | None:
        """The :func:`search_keys` key of every object this clause matches, if there is one.

        Only plain exact matches have one: ``email:'x'`` (case-insensitive, like :meth:`_test`)
        and ``metadata['k']:'v'``; negations, ``null``, ``~`` and numbers do not.
        """
        if self.negated or self.op != ":" or not isinstance(self.value, str):
            return None
        if self.field == "email":
            return ("email", self.value.casefold())
        if self.field == "metadata" and self.key is not None:
            return ("metadata", self.key, self.value)
        return None

    def _test(self, obj: Mapping[str, Any]) -> bool:
        if self.field == "metadata":
            actual = (obj.get("metadata") or {}).get(self.key)
        else:
            actual = obj.get(self.field)
        if self.value is None:
            return actual is None
        if actual is None:
            return False
        if isinstance(self.value, int):
            number = int(actual)
            return {
                ":": number == self.value,
                ">": number > self.value,
                "<": number < self.value,
                ">=": number >= self.value,
                "<=": number <= self.value,
            }[self.op]
        if self.op == "~":
            return self.value.casefold() in str(actual).casefold()
        if self.field in ("email", "name"):
            # Exact matches on email and name ignore case (emails are compared case-insensitively).
            return str(actual).casefold() == self.value.casefold()
        return bool(actual == self.value)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    clauses: tuple[Clause, ...]
    any_of: bool
    """True when clauses are joined by OR, False for AND (explicit or a space)."""

    def matches(self, obj: Mapping[str, Any]) -> bool:
        results = (clause.matches(obj) for clause in self.clauses)
        return any(results) if self.any_of else all(results)

    def index_keys(self) -> list[SearchKey] | None:
        """Keys whose indexed records include every match, or None when only a scan will do.

        OR needs a key for every clause (the union covers each clause's matches); AND needs one
        clause's key. Candidates are still checked with :meth:`matches`, so results, their
        order and the search lag are the scan's.
        """
        keys = [clause.index_key() for clause in self.clauses]
        known = [key for key in keys if key is not None]
        if self.any_of and len(known) < len(keys):
            return None
        return (known if self.any_of else known[:1]) or None


def _query_error(message: str) -> ApiError:
    return ApiError(400, message, param="query")


class _Parser:
    """Recursive descent over Stripe's search grammar (no parentheses, one kind of join)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ApiError:
        return _query_error(
            f"We were unable to parse your search query: {what} at position {self.pos}. Try "
            "the format `field:'value'`, or `metadata['key']:'value'` for metadata."
        )

    def skip_space(self) -> bool:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.pos > start

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def parse(self) -> SearchQuery:
        self.skip_space()
        if self.at_end():
            raise _query_error("The search query is empty.")
        clauses = [self.clause()]
        joins: set[str] = set()
        while True:
            spaced = self.skip_space()
            if self.at_end():
                break
            if not spaced:
                raise self.fail("expected a space, AND or OR between clauses")
            keyword = re.match(r"(and|or)\s+", self.text[self.pos :], re.IGNORECASE)
            if keyword:
                joins.add(keyword.group(1).lower())
                self.pos += keyword.end()
            else:
                joins.add("and")
            clauses.append(self.clause())
        if len(joins) > 1:
            raise _query_error(
                "AND and OR cannot be combined in one search query (and parentheses are not "
                "supported)."
            )
        if len(clauses) > MAX_CLAUSES:
            raise _query_error(
                f"A search query can have at most {MAX_CLAUSES} clauses; this one has "
                f"{len(clauses)}."
            )
        return SearchQuery(tuple(clauses), any_of=joins == {"or"})

    def clause(self) -> Clause:
        negated = self.text.startswith("-", self.pos)
        if negated:
            self.pos += 1
        if self.text.startswith("(", self.pos):
            raise _query_error("Parentheses are not supported in search queries.")
        name = re.match(r"[A-Za-z_][A-Za-z0-9_.]*", self.text[self.pos :])
        if not name:
            raise self.fail("expected a field name")
        self.pos += name.end()
        field = name.group(0)
        key = None
        if field == "metadata":
            if not self.text.startswith("[", self.pos):
                raise self.fail("expected ['key'] after metadata")
            self.pos += 1
            key = self.quoted()
            if not self.text.startswith("]", self.pos):
                raise self.fail("expected ]")
            self.pos += 1
        op = re.match(r">=|<=|:|~|>|<", self.text[self.pos :])
        if not op:
            raise self.fail("expected an operator (:, ~, >, <, >=, <=)")
        self.pos += op.end()
        value, quoted = self.value()
        return _validated(field, key, op.group(0), value, quoted, negated)

    def value(self) -> tuple[str, bool]:
        if self.text[self.pos : self.pos + 1] in ("'", '"'):
            return self.quoted(), True
        bare = re.match(r"[^\s()]+", self.text[self.pos :])
        if not bare:
            raise self.fail("expected a value")
        self.pos += bare.end()
        return bare.group(0), False

    def quoted(self) -> str:
        quote = self.text[self.pos : self.pos + 1]
        if quote not in ("'", '"'):
            raise self.fail("expected a quoted string")
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated string")


def _validated(
    field: str, key: str | None, op: str, raw: str, quoted: bool, negated: bool
) -> Clause:
    if field not in SEARCH_FIELDS:
        raise _query_error(
            f"Field `{field}` is not supported for customer search; use one of "
            f"{', '.join(SEARCH_FIELDS)}."
        )
    value: str | int | None
    if not quoted and raw == "null":
        if op != ":":
            raise _query_error(f"`null` can only be used with `:` (field `{field}`).")
        value = None
    elif field == "created":
        if op not in _NUMERIC_OPS or not re.fullmatch(r"-?\d+", raw):
            raise _query_error("`created` takes an integer timestamp with :, >, <, >= or <=.")
        value = int(raw)
    else:
        if not quoted:
            raise _query_error(f"String values must be quoted (field `{field}`).")
        if op == "~":
            if field not in ("email", "name"):
                raise _query_error(f"Substring matching (~) is not supported for `{field}`.")
            if len(raw) < 3:
                raise _query_error("Substring (~) values must be at least 3 characters long.")
        elif op != ":":
            raise _query_error(f"Numeric comparators cannot be used with `{field}`.")
        value = raw
    return Clause(field, key, op, value, negated)


def parse_query(text: str) -> SearchQuery:
    """Parse a customer search query or raise a 400 :class:`ApiError` explaining why not."""
    return _Parser(text).parse()


def _query_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page(last: StoredCustomer, text: str) -> str:
    """An opaque ``next_page`` token: the query's digest and the last result's sort position."""
    payload = json.dumps({"q": _query_digest(text), "k": list(last.sort_key())})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page(token: Any, text: str) -> tuple[int, int]:
    def invalid() -> ApiError:
        return ApiError(400, "Invalid page: the token does not belong to this query.", param="page")

    if not isinstance(token, str):
        raise invalid()
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key = payload["k"]
        if payload["q"] != _query_digest(text) or len(key) != 2:
            raise invalid()
        return int(key[0]), int(key[1])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise invalid() from None
