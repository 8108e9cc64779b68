"""The gateway passes graphql-http's GraphQL-over-HTTP audit: every MUST, SHOULD and MAY.

Before issue 9 it passed 58 of 61: a client accepting ``application/graphql-response+json`` got
``application/json`` back, and a ``data`` entry on parse and validation failures.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp

from gateway.config import Settings, sandbox_settings
from gateway.server import create_app
from tests.http_audit.conftest import Auditor


def test_the_graphql_over_http_audit_passes(
    auditor: Auditor, live_server: Callable[[ASGIApp], str]
) -> None:
    # The audit asks only for __typename and __type: no provider is involved.
    url = live_server(create_app(Settings(providers=sandbox_settings()), adapters={}))

    report = auditor.audit(f"{url}/graphql")

    results = report["results"]
    failed = [(r["id"], r["name"], r["reason"]) for r in results if r["status"] != "ok"]
    assert failed == []
    levels = {r["name"].split()[0] for r in results}
    assert levels == {"MUST", "SHOULD", "MAY"}
    assert len(results) >= 61, report["version"]
