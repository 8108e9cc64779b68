"""Malformed requests get a 4xx GraphQL error in JSON, never a 500, a traceback or plain text.

Each case was a 500 with a traceback (bad UTF-8, a JSON null/number/string body, JSON nested
100,000 deep, a 5,000-digit number), Starlette's plain-text 404/405, or an "unhandled error"
traceback for a client hanging up mid-body (issue 9).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message

from gateway.config import Settings, sandbox_settings
from gateway.server import create_app
from tests.conftest import GatewayHarness, JsonLogs

JSON = {"content-type": "application/json"}
GRAPHQL_RESPONSE = "application/graphql-response+json"
DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5000


def body(text: str) -> bytes:
    return text.encode()


# (method, path, body, headers, status, code, what the message says)
MALFORMED: dict[str, tuple[str, str, bytes | None, dict[str, str], int, str, str]] = {
    "invalid UTF-8": (
        "POST",
        "/graphql",
        b'\xff\xfe{"query": 1}',
        JSON,
        400,
        "BAD_REQUEST",
        "UTF-8",
    ),
    "JSON null": ("POST", "/graphql", b"null", JSON, 400, "BAD_REQUEST", "No GraphQL query"),
    "JSON number": ("POST", "/graphql", b"42", JSON, 400, "BAD_REQUEST", "not a number"),
    "JSON string": ("POST", "/graphql", b'"{ a }"', JSON, 400, "BAD_REQUEST", "not a string"),
    "JSON boolean": ("POST", "/graphql", b"true", JSON, 400, "BAD_REQUEST", "not a boolean"),
    "JSON array (a batch)": (
        "POST",
        "/graphql",
        b'[{"query": "{ __typename }"}]',
        JSON,
        400,
        "BAD_REQUEST",
        "Batching is not enabled",
    ),
    "variables 100,000 deep": (
        "POST",
        "/graphql",
        body('{"query": "{ __typename }", "variables": {"v": ' + DEEP + "}}"),
        JSON,
        400,
        "BAD_REQUEST",
        "nested too deeply",
    ),
    "a 5,000-digit variable": (
        "POST",
        "/graphql",
        body('{"query": "query($n: Int) { __typename }", "variables": {"n": ' + HUGE + "}}"),
        JSON,
        400,
        "BAD_REQUEST",
        "more than 4300 digits",
    ),
    "NaN": (
        "POST",
        "/graphql",
        b'{"query": "{ __typename }", "variables": {"x": NaN}}',
        JSON,
        400,
        "BAD_REQUEST",
        "NaN is not JSON",
    ),
    "not JSON": ("POST", "/graphql", b"{oops", JSON, 400, "BAD_REQUEST", "Unable to parse"),
    "GET variables not JSON": (
        "GET",
        "/graphql?query=%7B__typename%7D&variables=%7Bbad",
        None,
        {},
        400,
        "BAD_REQUEST",
        "Unable to parse",
    ),
    "GET variables a number": (
        "GET",
        "/graphql?query=%7B__typename%7D&variables=5",
        None,
        {},
        400,
        "BAD_REQUEST",
        "not a number",
    ),
    "text/plain": (
        "POST",
        "/graphql",
        b'{"query": "{ __typename }"}',
        {"content-type": "text/plain"},
        400,
        "BAD_REQUEST",
        "Unsupported content type",
    ),
    "no content type": (
        "POST",
        "/graphql",
        b'{"query": "{ __typename }"}',
        {},
        400,
        "BAD_REQUEST",
        "Unsupported content type",
    ),
    "a form": (
        "POST",
        "/graphql",
        b"query=%7B__typename%7D",
        {"content-type": "application/x-www-form-urlencoded"},
        400,
        "BAD_REQUEST",
        "Unsupported content type",
    ),
    "multipart": (
        "POST",
        "/graphql",
        b"--x--\r\n",
        {"content-type": "multipart/form-data; boundary=x"},
        400,
        "BAD_REQUEST",
        "Unsupported content type",
    ),
    "PUT": ("PUT", "/graphql", b"{}", JSON, 405, "METHOD_NOT_ALLOWED", "PUT is not allowed"),
    "DELETE": ("DELETE", "/graphql", None, {}, 405, "METHOD_NOT_ALLOWED", "DELETE is not"),
    "PATCH": ("PATCH", "/graphql", b"{}", JSON, 405, "METHOD_NOT_ALLOWED", "PATCH is not"),
    "OPTIONS without CORS": ("OPTIONS", "/graphql", None, {}, 405, "METHOD_NOT_ALLOWED", ""),
    "PUT elsewhere": ("PUT", "/healthz", None, {}, 405, "METHOD_NOT_ALLOWED", "allowed: "),
    "unknown path": ("GET", "/nowhere", None, {}, 404, "NOT_FOUND", "no such path: /nowhere"),
    "POST to an unknown path": ("POST", "/graphq", b"{}", JSON, 404, "NOT_FOUND", "/graphq"),
}


def assert_no_traceback(json_logs: JsonLogs) -> None:
    problems = [
        line for line in json_logs.lines() if "exception" in line or line["level"] == "error"
    ]
    assert problems == []


@pytest.mark.parametrize(("case"), list(MALFORMED), ids=list(MALFORMED))
async def test_a_malformed_request_is_a_4xx_graphql_error(
    gateway: GatewayHarness, json_logs: JsonLogs, case: str
) -> None:
    method, path, content, headers, status, code, says = MALFORMED[case]

    response = await gateway.client.request(method, path, content=content, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    # A request error: it never executed, so no `data` entry (GraphQL spec, "Response").
    [error] = response.json()["errors"]
    assert response.json() == {"errors": [error]}
    assert error["extensions"] == {"code": code}
    assert says in error["message"]
    if status == 405:
        assert response.headers["allow"]
    assert gateway.call_counts() == dict.fromkeys(gateway.simulators, 0)
    assert_no_traceback(json_logs)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
async def test_graphql_takes_get_and_post_only(gateway: GatewayHarness, method: str) -> None:
    response = await gateway.client.request(method, "/graphql?query=%7B__typename%7D")

    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}
    assert response.headers["content-type"] == "application/json"


async def test_a_5000_digit_int_literal_is_a_validation_error_not_an_internal_one(
    gateway: GatewayHarness, json_logs: JsonLogs
) -> None:
    query = "{ customers(first: " + HUGE + ") { edges { cursor } } }"

    body = await gateway.query(query)

    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert_no_traceback(json_logs)


# -- application/graphql-response+json ------------------------------------------------------------


async def post(gateway: GatewayHarness, payload: dict[str, Any], accept: str) -> httpx.Response:
    return await gateway.client.post("/graphql", json=payload, headers={"accept": accept})


async def test_graphql_response_json_is_answered_in_kind(gateway: GatewayHarness) -> None:
    response = await post(gateway, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("query", "code"),
    [("{", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_under_graphql_response_json_a_request_error_is_a_400_without_data(
    gateway: GatewayHarness, query: str, code: str
) -> None:
    strict = await post(gateway, {"query": query}, GRAPHQL_RESPONSE)
    legacy = await post(gateway, {"query": query}, "application/json")

    assert strict.status_code == 400
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in strict.json()
    assert [e["extensions"]["code"] for e in strict.json()["errors"]] == [code]
    # application/json keeps the legacy answer: 200 with data null.
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None


async def test_under_graphql_response_json_an_execution_error_keeps_data_and_200(
    gateway: GatewayHarness,
) -> None:
    """``_entities`` is non-null, so its error nulls ``data``: the request did execute."""
    representations = [{"__typename": "Customer", "id": f"c{i}"} for i in range(201)]
    response = await post(
        gateway,
        {
            "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            "variables": {"r": representations},
        },
        GRAPHQL_RESPONSE,
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["path"] == ["_entities"]


async def test_a_refused_request_answers_in_the_accepted_media_type(
    gateway: GatewayHarness,
) -> None:
    bad_json = await gateway.client.post(
        "/graphql", content=b"{oops", headers={**JSON, "accept": GRAPHQL_RESPONSE}
    )
    put = await gateway.client.put("/graphql", headers={"accept": GRAPHQL_RESPONSE})

    assert (bad_json.status_code, put.status_code) == (400, 405)
    assert bad_json.headers["content-type"] == put.headers["content-type"] == GRAPHQL_RESPONSE


# -- a client that hangs up ------------------------------------------------------------------------


def gateway_app() -> Starlette:
    """The gateway without providers: these requests never get as far as one."""
    return create_app(Settings(providers=sandbox_settings()), adapters={})


async def test_a_client_hanging_up_mid_body_is_one_info_line(json_logs: JsonLogs) -> None:
    app = gateway_app()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    async with LifespanManager(app):
        await app(scope, receive, send)

    assert_no_traceback(json_logs)
    [line] = [line for line in json_logs.lines() if "disconnected" in line["message"]]
    assert (line["level"], line["method"], line["path"]) == ("info", "POST", "/graphql")


# -- the same on a real server (uvicorn) -----------------------------------------------------------


def wait_for(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``check`` until it holds: the server logs from its own thread."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)


def test_on_a_real_server_too(live_server: Callable[[ASGIApp], str], json_logs: JsonLogs) -> None:
    url = live_server(gateway_app())
    cases = ["invalid UTF-8", "JSON null", "variables 100,000 deep", "a 5,000-digit variable"]
    cases += ["PUT", "OPTIONS without CORS", "unknown path"]

    with httpx.Client(base_url=url) as client:
        for case in cases:
            method, path, content, headers, status, code, _ = MALFORMED[case]
            response = client.request(method, path, content=content, headers=headers)
            assert response.status_code == status, case
            assert response.json()["errors"][0]["extensions"]["code"] == code, case
        head = client.head("/graphql")
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"query": '
        )
    wait_for(lambda: any("disconnected" in line["message"] for line in json_logs.lines()))

    assert head.status_code == 405
    assert_no_traceback(json_logs)
