"""The simulator base: auth, admin routes, the request log, faults and form decoding.

Built on a two-route simulator made with ``build_app`` so it pins the shared layer only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.providers.stripe_like.simulator.http import is_authorized
from gateway.sandbox.base import ADMIN_PREFIX, SimulatorState, build_app, simulator_state
from gateway.sandbox.faults import Faults
from gateway.sandbox.forms import FormError, nest_form, read_form

KEY = "sk_test_base_key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def error_shape(status: int, message: str) -> Response:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, status)


async def widget(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"], "object": "widget"})


async def create_widget(request: Request) -> Response:
    return JSONResponse({"object": "widget", "params": nest_form(await read_form(request))})


async def broken(request: Request) -> Response:
    raise RuntimeError("route bug")


def make_app(api_key: str = KEY) -> Starlette:
    return build_app(
        SimulatorState("widgets", api_key),
        [
            Route("/v1/widgets", create_widget, methods=["POST"]),
            Route("/v1/widgets/{id}", widget, methods=["GET"]),
            Route("/v1/broken", broken),
        ],
        error_response=error_shape,
        is_authorized=is_authorized,
    )


@pytest.fixture
async def app_client() -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        yield app, client


AppClient = tuple[Starlette, httpx.AsyncClient]


async def statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get("/v1/widgets/w", headers=AUTH)).status_code for _ in range(count)]


# -- auth ------------------------------------------------------------------------------------


def basic(user: str, password: str = "") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (AUTH, 200),
        ({"Authorization": f"bearer   {KEY}  "}, 200),
        (basic(KEY), 200),
        (basic(KEY, "ignored-password"), 200),
        ({}, 401),
        ({"Authorization": "Bearer sk_test_wrong"}, 401),
        ({"Authorization": "Bearer "}, 401),
        (basic("sk_test_wrong"), 401),
        (basic(""), 401),
        ({"Authorization": "Basic !!!not-base64!!!"}, 401),
        ({"Authorization": f"Token {KEY}"}, 401),
    ],
)
async def test_auth_bearer_and_basic(
    app_client: AppClient, headers: dict[str, str], status: int
) -> None:
    _, client = app_client
    response = await client.get("/v1/widgets/w1", headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.json() == {
            "error": {"type": "invalid_request_error", "message": "Invalid API key provided."}
        }


# -- admin routes ----------------------------------------------------------------------------


async def test_faults_get_post_delete_and_reset(app_client: AppClient) -> None:
    app, client = app_client
    initial = (await client.get(f"{ADMIN_PREFIX}/faults")).json()
    assert initial["provider"] == "widgets"
    assert initial["faults"]["latency_ms"] == 0 and initial["faults"]["next_statuses"] == []

    posted = await client.post(
        f"{ADMIN_PREFIX}/faults", json={"error_rate": 0.5, "next_statuses": [503, "429"]}
    )
    assert posted.status_code == 200
    assert posted.json()["faults"]["next_statuses"] == [503, 429]
    await client.post(f"{ADMIN_PREFIX}/faults", json={"latency_ms": 5})
    faults = simulator_state(app).faults
    assert (faults.error_rate, faults.latency_ms) == (0.5, 5.0)  # partial updates merge

    reset = await client.post(f"{ADMIN_PREFIX}/faults", json={"reset": True, "seed": 3})
    assert reset.json()["faults"] == {**initial["faults"], "seed": 3}

    await client.post(f"{ADMIN_PREFIX}/faults", json={"outage": True})
    deleted = await client.delete(f"{ADMIN_PREFIX}/faults")
    assert deleted.json()["faults"] == initial["faults"]
    assert simulator_state(app).faults == Faults()
    assert simulator_state(app).log == []  # admin calls are never logged


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latency_ms": "abc"}, "latency_ms"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"jitter_ms": True}, "jitter_ms"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"rate_limit_rate": -0.1}, "rate_limit_rate"),
        ({"malformed_rate": None}, "malformed_rate"),
        ({"retry_after": "1"}, "retry_after"),
        ({"slow_body_ms": [1]}, "slow_body_ms"),
        ({"outage": "yes"}, "outage"),
        ({"error_status": 99}, "error_status"),
        ({"error_status": 503.5}, "error_status"),
        ({"next_statuses": "503"}, "next_statuses"),
        ({"next_statuses": [503, 700]}, "next_statuses"),
        ({"malformed_next": -1}, "malformed_next"),
        ({"seed": 1.5}, "seed"),
        ({"reset": "yes"}, "reset"),
        ({"latency": 5}, "latency"),
    ],
)
async def test_fault_validation_names_the_bad_field(
    app_client: AppClient, body: dict[str, Any], field: str
) -> None:
    app, client = app_client
    await client.post(f"{ADMIN_PREFIX}/faults", json={"latency_ms": 1})
    before = simulator_state(app).faults
    response = await client.post(f"{ADMIN_PREFIX}/faults", json=body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["error"]
    assert simulator_state(app).faults is before  # a rejected POST changes nothing


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
async def test_fault_post_rejects_non_objects(app_client: AppClient, raw: bytes) -> None:
    _, client = app_client
    response = await client.post(f"{ADMIN_PREFIX}/faults", content=raw)
    assert response.status_code == 400
    assert "invalid JSON body" in response.json()["error"]


async def test_request_log_contents_and_clearing(app_client: AppClient) -> None:
    _, client = app_client
    await client.get("/v1/widgets/w1", params={"expand[]": "a", "limit": "3"}, headers=AUTH)
    await client.post(
        "/v1/widgets",
        data={"name": "Ada"},
        headers={**AUTH, "Idempotency-Key": "idem-9", "Stripe-Version": "2026-10-28.endive"},
    )
    await client.get("/v1/widgets/w2", headers=basic(KEY))
    await client.get("/v1/widgets/w3")
    log = (await client.get(f"{ADMIN_PREFIX}/requests")).json()
    assert (log["provider"], log["count"]) == ("widgets", 4)
    first, second, third, fourth = log["requests"]
    assert (first["method"], first["path"], first["query"], first["status"]) == (
        "GET",
        "/v1/widgets/w1",
        "expand%5B%5D=a&limit=3",
        200,
    )
    assert (second["method"], second["body"], second["status"]) == ("POST", "name=Ada", 200)
    assert second["headers"]["idempotency-key"] == "idem-9"
    assert second["headers"]["stripe-version"] == "2026-10-28.endive"
    assert second["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert fourth["status"] == 401
    assert time.time() - 60 < first["at"] <= second["at"] <= time.time()
    dumped = json.dumps(log)
    assert "authorization" not in dumped.lower()
    assert KEY not in dumped
    assert base64.b64encode(f"{KEY}:".encode()).decode() not in dumped
    assert third["headers"].keys() <= {"content-type", "user-agent"}

    cleared = await client.delete(f"{ADMIN_PREFIX}/requests")
    assert cleared.json() == {"provider": "widgets", "count": 0, "requests": []}
    assert (await client.get(f"{ADMIN_PREFIX}/requests")).json()["count"] == 0


async def test_an_unhandled_route_error_is_logged_as_500(app_client: AppClient) -> None:
    app, client = app_client
    response = await client.get("/v1/broken", headers=AUTH)
    assert response.status_code == 500
    assert [entry.status for entry in simulator_state(app).log] == [500]


async def test_admin_prefix_match_is_exact(app_client: AppClient) -> None:
    app, client = app_client
    response = await client.get(f"{ADMIN_PREFIX}x/faults")
    assert response.status_code == 401  # not an admin route: authenticated and logged
    assert len(simulator_state(app).log) == 1


# -- 404 / 405 in the provider's shape -------------------------------------------------------


async def test_unknown_route_and_wrong_method_use_the_provider_shape(app_client: AppClient) -> None:
    _, client = app_client
    missing = await client.get("/v1/nothing", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "type": "invalid_request_error",
            "message": "Unrecognized request URL (GET: /v1/nothing).",
        }
    }
    wrong = await client.delete("/v1/widgets/w1", headers=AUTH)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["message"] == "Method DELETE not allowed for /v1/widgets/w1."
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "HEAD"}


async def test_custom_not_found_handler_is_used() -> None:
    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"status": 404, "error": "Not Found"}, 404)

    app = build_app(
        SimulatorState("lagoish", KEY),
        [],
        error_response=error_shape,
        is_authorized=lambda request, key: True,
        not_found=not_found,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim.test"
    ) as client:
        response = await client.get("/api/v1/nope")
    assert response.json() == {"status": 404, "error": "Not Found"}


# -- faults ----------------------------------------------------------------------------------


async def test_next_statuses_script_then_normal_service(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(next_statuses=[503, 429, 401, 500], retry_after=2.5))
    responses = [await client.get("/v1/widgets/w", headers=AUTH) for _ in range(5)]
    assert [r.status_code for r in responses] == [503, 429, 401, 500, 200]
    assert responses[1].headers["retry-after"] == "2.5"
    assert responses[2].json()["error"]["message"] == "Invalid API key provided."
    assert all(r.json()["error"]["type"] == "invalid_request_error" for r in responses[:4])
    assert [entry.status for entry in simulator_state(app).log] == [503, 429, 401, 500, 200]


async def test_outage_answers_plain_text_503(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(outage=True))
    response = await client.get("/v1/widgets/w", headers=AUTH)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")


async def test_faults_apply_before_auth(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(next_statuses=[503]))
    assert (await client.get("/v1/widgets/w")).status_code == 503
    assert (await client.get("/v1/widgets/w")).status_code == 401


async def test_malformed_next_corrupts_exactly_n_answers(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(malformed_next=2))
    bodies = [(await client.get("/v1/widgets/w", headers=AUTH)).content for _ in range(3)]
    for body in bodies[:2]:
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
    assert json.loads(bodies[2]) == {"id": "w", "object": "widget"}
    assert simulator_state(app).faults.malformed_next == 0


async def test_slow_body_arrives_whole_and_late(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(slow_body_ms=40))
    started = time.monotonic()
    response = await client.get("/v1/widgets/w", headers=AUTH)
    assert time.monotonic() - started >= 0.04
    assert response.json() == {"id": "w", "object": "widget"}
    assert response.headers["content-type"] == "application/json"


async def test_latency_delays_the_answer(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(latency_ms=30))
    started = time.monotonic()
    assert (await client.get("/v1/widgets/w", headers=AUTH)).status_code == 200
    assert time.monotonic() - started >= 0.03


async def test_fault_rng_is_deterministic_for_a_seed(app_client: AppClient) -> None:
    app, client = app_client
    state = simulator_state(app)
    mixed = {"error_rate": 0.3, "rate_limit_rate": 0.2, "malformed_rate": 0.2, "jitter_ms": 1}

    async def run(seed: int) -> list[tuple[int, bytes]]:
        await client.post(f"{ADMIN_PREFIX}/faults", json={"reset": True, "seed": seed, **mixed})
        out = []
        for _ in range(40):
            response = await client.get("/v1/widgets/w", headers=AUTH)
            out.append((response.status_code, response.content))
        return out

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again
    assert first != other
    assert {status for status, _ in first} == {200, 429, 500}
    assert len(state.log) == 120


@pytest.mark.parametrize(
    ("faults", "status", "expected"),
    [
        (Faults(error_rate=0.3, error_status=502, seed=11), 502, 0.3),
        (Faults(rate_limit_rate=0.2, seed=12), 429, 0.2),
        (Faults(error_rate=1.0, error_status=500, seed=13), 500, 1.0),
        (Faults(error_rate=0.0, seed=14), 500, 0.0),
    ],
)
async def test_fault_rates_match_their_probability(
    app_client: AppClient, faults: Faults, status: int, expected: float
) -> None:
    app, client = app_client
    simulator_state(app).set_faults(faults)
    observed = await statuses(client, 400)
    rate = observed.count(status) / len(observed)
    assert abs(rate - expected) <= 0.06
    assert set(observed) <= {200, status}


# -- nest_form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        ([("email", "a@b.c")], {"email": "a@b.c"}),
        ([("a", "1"), ("a", "2")], {"a": "2"}),
        (
            [("address[city]", "Paris"), ("address[line1]", "1 rue")],
            {"address": {"city": "Paris", "line1": "1 rue"}},
        ),
        ([("metadata[k]", "")], {"metadata": {"k": ""}}),
        ([("a[b][c]", "1")], {"a": {"b": {"c": "1"}}}),
        ([("expand[]", "x"), ("expand[]", "y")], {"expand": ["x", "y"]}),
        (
            [("items[0][price]", "p1"), ("items[0][qty]", "2"), ("items[1][price]", "p2")],
            {"items": [{"price": "p1", "qty": "2"}, {"price": "p2"}]},
        ),
        ([("items[1][x]", "b"), ("items[0][x]", "a")], {"items": [{"x": "a"}, {"x": "b"}]}),
        ([("items[5]", "a"), ("items[2]", "b")], {"items": ["b", "a"]}),
        ([("k[][x]", "1"), ("k[][y]", "2")], {"k": [{"x": "1"}, {"y": "2"}]}),
        ([("m[a][]", "1"), ("m[a][]", "2")], {"m": {"a": ["1", "2"]}}),
        ([("a[b", "1")], {"a": {"b": "1"}}),
        ([("[x]", "1")], {"": {"x": "1"}}),
        ([("n[99999999999]", "big")], {"n": {"99999999999": "big"}}),
        ([("n[\u00b2]", "sup")], {"n": {"\u00b2": "sup"}}),
    ],
)
def test_nest_form(pairs: list[tuple[str, str]], expected: dict[str, Any]) -> None:
    assert nest_form(pairs) == expected


@pytest.mark.parametrize(
    "pairs",
    [
        [("metadata", ""), ("metadata[k]", "v")],
        [("metadata[k]", "v"), ("metadata", "")],
        [("k[]", "1"), ("k[x]", "2")],
        [("k[x]", "1"), ("k[]", "2")],
        [("k[]", "a"), ("k[0][x]", "1")],
    ],
)
def test_nest_form_rejects_shape_conflicts(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(FormError) as info:
        nest_form(pairs)
    assert isinstance(info.value, ValueError)
    assert pairs[0][0].split("[")[0] in str(info.value)


async def test_form_route_decodes_nested_params(app_client: AppClient) -> None:
    _, client = app_client
    response = await client.post(
        "/v1/widgets",
        content="metadata[a]=1&metadata[b]=&expand[]=x&expand[]=y&address[city]=Lyon",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json()["params"] == {
        "metadata": {"a": "1", "b": ""},  # a blank value is kept: it clears a field
        "expand": ["x", "y"],
        "address": {"city": "Lyon"},
    }


async def test_concurrent_requests_are_each_logged_once(app_client: AppClient) -> None:
    app, client = app_client
    simulator_state(app).set_faults(Faults(latency_ms=5))
    await asyncio.gather(*(client.get(f"/v1/widgets/w{i}", headers=AUTH) for i in range(10)))
    assert sorted(entry.path for entry in simulator_state(app).log) == sorted(
        f"/v1/widgets/w{i}" for i in range(10)
    )
