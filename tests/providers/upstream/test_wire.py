"""The production wire (HTTP/1.1 on asyncio) against a real HTTP/1.1 server on loopback, side
by side with the httpx transports: what arrives on the server, byte for byte, and what comes back.

The rest of the suite injects httpx transports, so these tests are what proves the production
path. Three wires run every test: ``h1`` (production, :class:`H1Wire`), ``httpcore`` (httpx's own
transport through :class:`HttpxWire`) and ``httpx-aiohttp`` (the transport production used
before aiohttp straight and then H1Wire, through :class:`HttpxWire`: the reference for "no
change on the wire"). What only the production wire does (its pool, keep-alive, TLS, answers in
pieces) is in test_h1_wire.py.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from httpx_aiohttp import AiohttpTransport
from opentelemetry.sdk.trace import TracerProvider

from gateway.config import ProviderSettings, tune
from gateway.errors import ErrorKind, ProviderError
from gateway.providers.http import ProviderHTTP, json_error_parser
from gateway.providers.upstream.h1_wire import H1Wire
from gateway.providers.upstream.request import USER_AGENT
from gateway.providers.upstream.wire import HttpxWire, Timeouts, Wire, WireFailure
from gateway.telemetry.upstream import UpstreamTelemetry
from tests.providers.upstream.raw_server import JSON, RawServer, Received, Then, reply
from tests.servers import free_port

API_KEY = "sk_test_51WireSecretDoNotLeak"
WIRES = ("h1", "httpcore", "httpx-aiohttp")
AS_HTTPX_SENDS = ("h1", "httpcore")
"""httpx-aiohttp handed aiohttp a URL string that yarl re-quoted (``%3A`` went out as ``:``);
production now sends httpx's encoding untouched."""


def answer_by_path(received: Received) -> tuple[bytes, Then]:
    """The answers the tests ask for, chosen by the request path."""
    path = received.line.split(b" ")[1].split(b"?")[0]
    if path == b"/v1/nothing":
        return reply(204), "keep"
    if path == b"/v1/limited":
        body = b'{"error": {"code": "rate_limit", "message": "Slow down."}}'
        return reply(429, body, JSON, ("Retry-After", "7")), "keep"
    if path == b"/v1/echo-key":
        auth = dict(received.headers)["authorization"]
        body = f'{{"error": {{"message": "Invalid API Key provided: {auth}"}}}}'.encode()
        return reply(401, body, JSON), "keep"
    if path == b"/v1/stall":
        return b"", "stall"
    if path == b"/v1/cut":
        return reply(200, b'{"id": "cut', JSON, ("Content-Length", "100")), "close"
    if path == b"/v1/garbled":
        return b"HTTZ/1.1 two hundred\r\n\r\n", "close"
    if path == b"/v1/bad-gzip":
        return reply(200, b"not gzip at all", JSON, ("Content-Encoding", "gzip")), "keep"
    if path == b"/v1/gzip":
        return reply(200, gzip.compress(b'{"zipped": true}'), JSON, ("Content-Encoding", "gzip")), (
            "keep"
        )
    if path == b"/v1/cookie":
        return reply(200, b"{}", JSON, ("Set-Cookie", "session=abc; Path=/")), "keep"
    return reply(200, b'{"id": "cus_1", "name": "J\xc3\xbcrgen"}', JSON, ("X-Request-Id", "r1")), (
        "keep"
    )


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    raw = RawServer(answer_by_path)
    await raw.start()
    yield raw
    await raw.stop()


def make_http(wire: str, base_url: str, **changes: Any) -> ProviderHTTP:
    """ProviderHTTP on ``wire``: production's (no transport given) or an httpx transport."""
    transports: dict[str, Callable[[], httpx.AsyncBaseTransport]] = {
        "httpcore": httpx.AsyncHTTPTransport,
        "httpx-aiohttp": AiohttpTransport,
    }
    settings = ProviderSettings(name="demo", base_url=base_url, api_key=API_KEY)
    return ProviderHTTP(
        tune(settings, **{"max_retries": 0, **changes}),
        auth_headers={"Authorization": f"Bearer {API_KEY}"},
        error_parser=json_error_parser(("error", "message")),
        transport=transports[wire]() if wire in transports else None,
    )


async def on_every_wire(
    base_url: str,
    call: Callable[[ProviderHTTP], Any],
    wires: tuple[str, ...] = WIRES,
    **changes: Any,
) -> dict[str, Any]:
    """What ``call`` returns (or raises) on each wire, by wire name."""
    outcomes: dict[str, Any] = {}
    for wire in wires:
        http = make_http(wire, base_url, **changes)
        try:
            outcomes[wire] = await call(http)
        except ProviderError as exc:
            outcomes[wire] = exc
        finally:
            await http.aclose()
    return outcomes


def summary(outcome: Any) -> Any:
    """A ProviderError as comparable fields; anything else as is."""
    if isinstance(outcome, ProviderError):
        return (outcome.kind, outcome.message, outcome.status, outcome.code, outcome.retry_after)
    return outcome


# -- production is what it should be ---------------------------------------------------------


def test_production_sends_through_h1_and_tests_through_their_transport() -> None:
    production = make_http("h1", "http://p.test")
    assert isinstance(production.wire, H1Wire) and production.transport is None
    assert production.wire.max_connections == production.settings.max_concurrency
    injected = make_http("httpcore", "http://p.test")
    assert isinstance(injected.wire, HttpxWire) and injected.transport is injected.wire.transport


# -- answers ---------------------------------------------------------------------------------


async def test_every_wire_reads_the_same_answer(server: RawServer) -> None:
    timeouts = Timeouts(connect=5.0, read=5.0, pool=5.0)
    wires: list[Wire] = [
        H1Wire(2),
        HttpxWire(httpx.AsyncHTTPTransport()),
        HttpxWire(AiohttpTransport()),
    ]
    seen: list[list[tuple[Any, ...]]] = []
    for wire in wires:
        answers = []
        for path in ("/v1/items/1", "/v1/nothing", "/v1/limited", "/v1/gzip"):
            got = await wire.send("GET", server.url + path, {}, None, timeouts)
            headers = got.headers
            answers.append(
                (
                    path,
                    got.status,
                    got.content,
                    headers.get("Content-Type"),
                    headers.get("retry-after"),
                )
            )
        await wire.aclose()
        seen.append(answers)
    assert seen[0] == seen[1] == seen[2]
    assert seen[0] == [
        ("/v1/items/1", 200, b'{"id": "cus_1", "name": "J\xc3\xbcrgen"}', "application/json", None),
        ("/v1/nothing", 204, b"", None, None),
        (
            "/v1/limited",
            429,
            b'{"error": {"code": "rate_limit", "message": "Slow down."}}',
            "application/json",
            "7",
        ),
        ("/v1/gzip", 200, b'{"zipped": true}', "application/json", None),  # decompressed
    ]


async def test_decoded_bodies_and_errors_are_the_same_on_every_wire(server: RawServer) -> None:
    for path, expected in [
        ("/v1/items/1", {"id": "cus_1", "name": "Jürgen"}),
        ("/v1/nothing", None),
        ("/v1/gzip", {"zipped": True}),
        ("/v1/limited", (ErrorKind.RATE_LIMITED, "Slow down.", 429, "rate_limit", 7.0)),
        (
            "/v1/bad-gzip",
            (ErrorKind.BAD_RESPONSE, "DecodingError calling GET /v1/bad-gzip", None, None, None),
        ),
    ]:
        outcomes = await on_every_wire(server.url, lambda http, p=path: http.request("GET", p))
        assert {wire: summary(o) for wire, o in outcomes.items()} == dict.fromkeys(WIRES, expected)


# -- what arrives on the server --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "line"),
    [
        ("/v1/items/a b", None, b"GET /v1/items/a%20b HTTP/1.1"),
        ("/v1/items/a/b%2Fc", None, b"GET /v1/items/a/b%2Fc HTTP/1.1"),
        ("/v1/items/Jürgen", None, b"GET /v1/items/J%C3%BCrgen HTTP/1.1"),
        (
            "/v1/search",
            [
                ("q", "email:'a+b@x.example' OR name:\"Jü rgen\""),
                ("expand[]", "x"),
                ("expand[]", "y"),
            ],
            b"GET /v1/search?q=email%3A%27a%2Bb%40x.example%27+OR+name%3A%22J%C3%BC+rgen%22"
            b"&expand%5B%5D=x&expand%5B%5D=y HTTP/1.1",
        ),
        ("/v1/items?limit=1", {}, b"GET /v1/items HTTP/1.1"),
        ("/v1/items?a=~*'()", None, b"GET /v1/items?a=~*'() HTTP/1.1"),
    ],
)
async def test_the_request_line_is_the_same_on_every_wire(
    server: RawServer, path: str, params: Any, line: bytes
) -> None:
    await on_every_wire(
        server.url, lambda http: http.request("GET", path, params=params), AS_HTTPX_SENDS
    )
    assert [received.line for received in server.received] == [line] * len(AS_HTTPX_SENDS)


async def test_headers_are_ours_and_the_same_as_before(server: RawServer) -> None:
    """Production sends exactly the headers the httpx-aiohttp transport sent (aiohttp added only
    Host and Accept-Encoding); one User-Agent, ours."""
    await on_every_wire(
        server.url,
        lambda http: http.request("POST", "/v1/items", data=[("a", "1")], idempotency_key="k1"),
    )
    production, httpcore, before = server.received
    assert sorted(production.headers) == sorted(before.headers)
    for received in server.received:
        assert received.values("user-agent") == [USER_AGENT]
        assert received.values("accept") == ["application/json"]
        assert received.values("authorization") == [f"Bearer {API_KEY}"]
        assert received.values("idempotency-key") == ["k1"]
        assert received.values("content-type") == ["application/x-www-form-urlencoded"]
        assert received.values("content-length") == ["3"]
        assert received.values("host") == [f"127.0.0.1:{server.port}"]
    assert not httpcore.values("accept-encoding")  # httpx's transport alone adds none


async def test_a_traced_attempt_sends_its_traceparent_once(server: RawServer) -> None:
    """With tracing on, each attempt's headers are a new mapping with ``traceparent`` added."""
    http = make_http("h1", server.url)
    http.telemetry = UpstreamTelemetry(tracer=TracerProvider().get_tracer("test"))
    await http.request("GET", "/v1/items/1", headers={"X-Extra": "1"})
    await http.aclose()
    [received] = server.received
    [traceparent] = received.values("traceparent")
    assert traceparent.startswith("00-") and received.values("x-extra") == ["1"]
    assert received.values("user-agent") == [USER_AGENT]


async def test_form_and_json_bodies_are_the_same_bytes_on_every_wire(server: RawServer) -> None:
    form = [("email", "a+b@x.example"), ("expand[]", "x"), ("expand[]", "y"), ("name", "Jü")]
    document = {"name": "Jürgen", "tags": ["a", "b"], "n": 1.5, "ok": True}
    await on_every_wire(server.url, lambda http: http.request("POST", "/v1/f", data=form))
    await on_every_wire(
        server.url, lambda http: http.request("POST", "/v1/m", data={"a": ["1", "2"], "b": True})
    )
    await on_every_wire(server.url, lambda http: http.request("PUT", "/v1/j", json_body=document))
    forms, mappings, jsons = (server.received[i : i + 3] for i in (0, 3, 6))
    assert {r.body for r in forms} == {
        b"email=a%2Bb%40x.example&expand%5B%5D=x&expand%5B%5D=y&name=J%C3%BC"
    }
    assert {r.body for r in mappings} == {b"a=1&a=2&b=true"}
    assert {r.body for r in jsons} == {
        '{"name":"Jürgen","tags":["a","b"],"n":1.5,"ok":true}'.encode()
    }
    assert {tuple(r.values("content-type")) for r in jsons} == {("application/json",)}


async def test_one_connection_carries_sequential_calls_and_no_cookies(server: RawServer) -> None:
    for wire in WIRES:
        http = make_http(wire, server.url)
        before = server.connections
        await http.request("GET", "/v1/cookie")
        await http.request("GET", "/v1/items/1")
        await http.aclose()
        assert server.connections - before == 1, wire
        assert not server.received[-1].values("cookie"), wire


# -- failures --------------------------------------------------------------------------------


async def test_a_refused_connection_is_unavailable_on_every_wire() -> None:
    outcomes = await on_every_wire(
        f"http://127.0.0.1:{free_port()}", lambda http: http.request("GET", "/v1/items/1")
    )
    expected = (
        ErrorKind.UNAVAILABLE,
        "connection refused calling GET /v1/items/1",
        None,
        None,
        None,
    )
    assert {wire: summary(o) for wire, o in outcomes.items()} == dict.fromkeys(WIRES, expected)


async def test_a_stalled_answer_is_a_read_timeout_on_every_wire(server: RawServer) -> None:
    outcomes = await on_every_wire(
        server.url, lambda http: http.request("GET", "/v1/stall"), read_timeout=0.2
    )
    expected = (ErrorKind.TIMEOUT, "ReadTimeout calling GET /v1/stall", None, None, None)
    assert {wire: summary(o) for wire, o in outcomes.items()} == dict.fromkeys(WIRES, expected)


async def test_a_body_cut_short_is_unavailable_on_every_wire(server: RawServer) -> None:
    outcomes = await on_every_wire(server.url, lambda http: http.request("GET", "/v1/cut"))
    assert {wire: o.kind for wire, o in outcomes.items()} == dict.fromkeys(
        WIRES, ErrorKind.UNAVAILABLE
    )
    assert (
        outcomes["h1"].message
        == outcomes["httpx-aiohttp"].message
        == ("ReadError calling GET /v1/cut")
    )


async def test_a_garbled_answer_is_a_protocol_error_not_a_leaked_aiohttp_exception(
    server: RawServer,
) -> None:
    """httpx-aiohttp let aiohttp's ``ClientResponseError`` (request headers and all) escape;
    production calls it what httpx's own transport does."""
    outcomes = await on_every_wire(
        server.url, lambda http: http.request("GET", "/v1/garbled"), AS_HTTPX_SENDS
    )
    expected = (ErrorKind.UNAVAILABLE, "RemoteProtocolError calling GET /v1/garbled")
    for outcome in outcomes.values():
        assert (outcome.kind, outcome.message) == expected
        assert outcome.__cause__ is None and outcome.__context__ is None


async def test_the_key_never_leaves_in_a_failure_of_the_production_wire(server: RawServer) -> None:
    failures: list[BaseException] = []
    for path in ("/v1/echo-key", "/v1/garbled", "/v1/cut", "/v1/stall"):
        http = make_http("h1", server.url, read_timeout=0.2)
        with pytest.raises(ProviderError) as info:
            await http.request("GET", path)
        await http.aclose()
        failures.append(info.value)
    wire = H1Wire(1)
    with pytest.raises(WireFailure) as raw:
        await wire.send(
            "GET",
            f"http://127.0.0.1:{free_port()}/v1/x",
            {"Authorization": f"Bearer {API_KEY}"},
            None,
            Timeouts(connect=1.0, read=1.0, pool=1.0),
        )
    await wire.aclose()
    failures.append(raw.value)
    assert failures[0].kind is ErrorKind.AUTH  # type: ignore[attr-defined]
    for failure in failures:
        assert API_KEY not in f"{failure} {failure!r}"
        assert failure.__cause__ is None and failure.__context__ is None
