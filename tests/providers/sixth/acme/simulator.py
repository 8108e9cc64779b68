"""The sandbox's Acme: contacts in memory, the same auth, faults and request log as the rest."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.sandbox.auth import bearer_token, same_key
from gateway.sandbox.base import SimulatorState, build_app
from gateway.sandbox.index import KeyIndex

SANDBOX_KEY: Final = "acme_sandbox"
_FIELDS: Final = frozenset({"id", "email", "name", "plan", "created"})


def seed_record(record: Mapping[str, Any]) -> dict[str, Any]:
    if unknown := sorted(set(record) - _FIELDS):
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    if not isinstance(record.get("id"), str) or not record["id"].startswith("ac_"):
        raise ValueError(f"id must be 'ac_...', not {record.get('id')!r}")
    email = record.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise ValueError(f"email must be an address, not {email!r}")
    return {"name": None, "plan": "free", "created": 1_700_000_000, **record}


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def create_app(
    records: Sequence[Mapping[str, Any]] = (), *, api_key: str = SANDBOX_KEY
) -> Starlette:
    contacts: dict[str, dict[str, Any]] = {}
    by_email: KeyIndex[Mapping[str, Any]] = KeyIndex(lambda c: [str(c["email"]).casefold()])

    def put(contact: dict[str, Any]) -> None:
        contacts[contact["id"]] = contact
        by_email.put(contact["id"], contact)

    for record in records:
        put(seed_record(record))

    async def get_one(request: Request) -> Response:
        found = contacts.get(request.path_params["id"])
        return JSONResponse(found) if found else _error(404, "no such contact")

    async def listing(request: Request) -> Response:
        if email := request.query_params.get("email"):
            hits = [contacts[i] for i in sorted(by_email.get(email.strip().casefold()))]
            return JSONResponse({"data": hits, "has_more": False})
        ordered = sorted(contacts)
        after = request.query_params.get("after")
        start = ordered.index(after) + 1 if after in contacts else 0
        limit = int(request.query_params.get("limit", "10"))
        window = ordered[start : start + limit]
        return JSONResponse(
            {"data": [contacts[i] for i in window], "has_more": start + limit < len(ordered)}
        )

    async def create(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        contact_id = f"ac_{len(contacts) + 1:06d}"
        try:
            contact = seed_record({"id": contact_id, **body})
        except ValueError as exc:
            return _error(400, str(exc))
        put(contact)
        return JSONResponse(contact)

    return build_app(
        SimulatorState("acme", api_key),
        [
            Route("/v1/contacts/{id}", get_one),
            Route("/v1/contacts", listing, methods=["GET"]),
            Route("/v1/contacts", create, methods=["POST"]),
        ],
        error_response=_error,
        is_authorized=lambda request, key: same_key(bearer_token(request), key),
    )
