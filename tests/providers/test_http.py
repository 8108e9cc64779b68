"""ProviderHTTP against a tiny Stripe-like simulator: decoding, error normalisation, secrets,
retries, Retry-After, timeouts and the concurrency cap.

The simulator here is built with ``build_app`` only, so these tests pin the shared layer and do
not depend on any real provider simulator. ``tests/providers/test_resilience.py`` reuses it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import httpx
import pytest
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.config import ProviderSettings, tune
from gateway.errors import ErrorKind, ProviderError
from gateway.providers.http import (
    Answer,
    ProviderHTTP,
    UpstreamError,
    json_error_parser,
    kind_for_status,
    retry_after_seconds,
)
from gateway.providers.stripe_like.simulator.http import is_authorized, presented_key
from gateway.providers.upstream.redact import redact
from gateway.sandbox.base import SimulatorState, build_app, simulator_state
from gateway.sandbox.faults import Faults
from gateway.sandbox.forms import read_form
from tests.conftest import answer

API_KEY = "sk_test_51SecretDemoKeyDoNotLeak"
STRIPE_PARSER = json_error_parser(("error", "message"))


# -- the tiny simulator ----------------------------------------------------------------------


def stripe_error(status: int, message: str, code: str | None = None) -> Response:
    """Stripe's error envelope: ``{"error": {"type", "code", "message"}}``."""
    kind = "api_error" if status >= 500 else "invalid_request_error"
    return JSONResponse(
        {"error": {"type": kind, "code": code, "message": message}}, status_code=status
    )


class DemoSim:
    """Counters the routes keep so tests can see what reached the application."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.limited_calls = 0
        self.forms: list[list[tuple[str, str]]] = []


def make_sim(api_key: str = API_KEY) -> tuple[Starlette, DemoSim]:
    """A Stripe-like simulator with a handful of routes covering every answer shape."""
    sim = DemoSim()

    async def item(request: Request) -> Response:
        item_id = request.path_params["id"]
        if item_id == "missing":
            return stripe_error(404, f"No such item: '{item_id}'", "resource_missing")
        return JSONResponse({"id": item_id, "object": "item"})

    async def create(request: Request) -> Response:
        pairs = await read_form(request)
        sim.forms.append(pairs)
        return JSONResponse({"object": "item", "params": [list(p) for p in pairs]})

    async def delete(request: Request) -> Response:
        return Response(status_code=204)

    async def empty(request: Request) -> Response:
        return Response(b"", status_code=200, media_type="application/json")

    async def status(request: Request) -> Response:
        code = int(request.path_params["code"])
        return stripe_error(code, f"Injected {code}.", f"code_{code}")

    async def text_error(request: Request) -> Response:
        return PlainTextResponse("<html>Bad Gateway</html>", status_code=502)

    async def echo_key(request: Request) -> Response:
        # A careless upstream that repeats the credentials it was sent.
        header = request.headers.get("authorization", "")
        return stripe_error(
            400,
            f"Invalid API Key provided: {presented_key(request)} (header {header})",
            API_KEY,
        )

    async def slow(request: Request) -> Response:
        sim.in_flight += 1
        sim.peak = max(sim.peak, sim.in_flight)
        try:
            await asyncio.sleep(float(request.query_params.get("s", "0.03")))
        finally:
            sim.in_flight -= 1
        return JSONResponse({"ok": True})

    async def limited(request: Request) -> Response:
        sim.limited_calls += 1
        if sim.limited_calls == 1:
            response = stripe_error(429, "Too many requests.", "rate_limit")
            response.headers["X-RateLimit-Reset"] = request.query_params.get("reset", "0.05")
            return response
        return JSONResponse({"ok": True})

    async def redirect(request: Request) -> Response:
        return Response(status_code=302, headers={"Location": "https://example.invalid/"})

    routes = [
        Route("/v1/items", create, methods=["POST"]),
        Route("/v1/items/{id}", item, methods=["GET", "POST"]),
        Route("/v1/items/{id}", delete, methods=["DELETE"]),
        Route("/v1/empty", empty),
        Route("/v1/status/{code:int}", status, methods=["GET", "POST"]),
        Route("/v1/text-error", text_error),
        Route("/v1/echo-key", echo_key),
        Route("/v1/slow", slow),
        Route("/v1/limited", limited),
        Route("/v1/redirect", redirect),
    ]
    app = build_app(
        SimulatorState("demo", api_key),
        routes,
        error_response=lambda status, message: stripe_error(status, message),
        is_authorized=is_authorized,
    )
    return app, sim


def demo_settings(**changes: Any) -> ProviderSettings:
    """Settings with tiny backoffs so retry tests run in milliseconds."""
    base = ProviderSettings(name="demo", base_url="http://demo.test", api_key=API_KEY)
    fast = {"backoff_base": 0.001, "backoff_max": 0.002, "deadline": 5.0, "read_timeout": 2.0}
    return tune(base, **{**fast, **changes})


def bearer(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def make_http(
    app: ASGIApp | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    auth_headers: dict[str, str] | None = None,
    **changes: Any,
) -> ProviderHTTP:
    if transport is None:
        assert app is not None
        transport = httpx.ASGITransport(app=app)
    return ProviderHTTP(
        demo_settings(**changes),
        auth_headers=auth_headers if auth_headers is not None else bearer(),
        error_parser=STRIPE_PARSER,
        transport=transport,
    )


def log_of(app: Starlette) -> list[Any]:
    return simulator_state(app).log


def set_faults(app: Starlette, **faults: Any) -> None:
    simulator_state(app).set_faults(Faults(**faults))


class FlakyTransport(httpx.AsyncBaseTransport):
    """Raises ``error`` for the first ``failures`` sends, then forwards; counts every send."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        error: Callable[[httpx.Request], Exception],
        failures: int,
    ) -> None:
        self.inner = inner
        self.error = error
        self.failures = failures
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sends += 1
        if self.sends <= self.failures:
            raise self.error(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def demo() -> AsyncIterator[tuple[Starlette, DemoSim, ProviderHTTP]]:
    app, sim = make_sim()
    http = make_http(app)
    yield app, sim, http
    await http.aclose()


Demo = tuple[Starlette, DemoSim, ProviderHTTP]


# -- success path and decoding ---------------------------------------------------------------


async def test_get_returns_decoded_json_and_logs_one_request(demo: Demo) -> None:
    app, _, http = demo
    body = await http.request("GET", "/v1/items/it_1", params={"expand[]": "x"})
    assert body == {"id": "it_1", "object": "item"}
    [entry] = log_of(app)
    assert (entry.method, entry.path, entry.query, entry.status) == (
        "GET",
        "/v1/items/it_1",
        "expand%5B%5D=x",
        200,
    )


async def test_no_content_and_empty_body_give_none(demo: Demo) -> None:
    _, _, http = demo
    assert await http.request("DELETE", "/v1/items/it_1") is None
    assert await http.request("GET", "/v1/empty") is None


async def test_form_pairs_keep_order_and_repeats(demo: Demo) -> None:
    app, sim, http = demo
    pairs = [("email", "a@b.c"), ("expand[]", "x"), ("expand[]", "y"), ("metadata[k]", "v")]
    body = await http.request("POST", "/v1/items", data=pairs)
    assert body["params"] == [list(p) for p in pairs]
    assert sim.forms == [pairs]
    assert log_of(app)[0].headers["content-type"] == "application/x-www-form-urlencoded"


async def test_form_mapping_and_json_bodies(demo: Demo) -> None:
    _, sim, http = demo
    await http.request("POST", "/v1/items", data={"name": "Ada", "flag": True})
    assert sim.forms == [[("name", "Ada"), ("flag", "true")]]


async def test_non_2xx_redirect_is_a_bad_response(demo: Demo) -> None:
    _, _, http = demo
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/redirect")
    assert (info.value.kind, info.value.status) == (ErrorKind.BAD_RESPONSE, 302)


# -- error normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ErrorKind.BAD_REQUEST),
        (401, ErrorKind.AUTH),
        (403, ErrorKind.AUTH),
        (404, ErrorKind.NOT_FOUND),
        (409, ErrorKind.BAD_REQUEST),
        (422, ErrorKind.BAD_REQUEST),
        (429, ErrorKind.RATE_LIMITED),
        (500, ErrorKind.UNAVAILABLE),
        (502, ErrorKind.UNAVAILABLE),
        (503, ErrorKind.UNAVAILABLE),
        (504, ErrorKind.UNAVAILABLE),
    ],
)
async def test_status_maps_to_error_kind_with_provider_code_and_message(
    status: int, kind: ErrorKind
) -> None:
    app, _ = make_sim()
    http = make_http(app, max_retries=0)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", f"/v1/status/{status}")
    await http.aclose()
    error = info.value
    assert (error.kind, error.status, error.code) == (kind, status, f"code_{status}")
    assert error.message == f"Injected {status}."
    assert error.provider == "demo"
    assert error.retryable is (kind in (ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE))
    assert len(log_of(app)) == 1


async def test_not_found_carries_the_stripe_code(demo: Demo) -> None:
    _, _, http = demo
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/missing")
    assert info.value.kind is ErrorKind.NOT_FOUND
    assert info.value.code == "resource_missing"
    assert info.value.message == "No such item: 'missing'"


async def test_wrong_key_is_auth_in_the_simulators_shape() -> None:
    app, _ = make_sim()
    http = make_http(app, auth_headers=bearer("sk_test_wrong"))
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert (info.value.kind, info.value.status) == (ErrorKind.AUTH, 401)
    assert info.value.code == "invalid_request_error"  # no code: the type stands in
    assert info.value.message == "Invalid API key provided."
    assert len(log_of(app)) == 1


async def test_non_json_error_body_keeps_the_status(demo: Demo) -> None:
    _, _, http = demo
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/text-error", retry_writes=False)
    error = info.value
    assert (error.kind, error.status, error.code, error.message) == (
        ErrorKind.UNAVAILABLE,
        502,
        None,
        "HTTP 502",
    )


async def test_a_raising_error_parser_still_gives_a_provider_error() -> None:
    app, _ = make_sim()

    def broken(response: httpx.Response) -> UpstreamError:
        raise KeyError("parser bug")

    http = ProviderHTTP(
        demo_settings(),
        auth_headers=bearer(),
        error_parser=broken,
        transport=httpx.ASGITransport(app=app),
    )
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/missing")
    await http.aclose()
    assert (info.value.kind, info.value.message) == (ErrorKind.NOT_FOUND, "HTTP 404")


def _response(status: int, body: Any = None, *, text: str | None = None, **headers: str) -> Answer:
    if text is not None:
        return answer(status, content=text.encode(), **headers)
    return answer(status, body, **headers)


def test_json_error_parser_paths_code_and_type() -> None:
    lago = json_error_parser(("error",))
    chartmogul = json_error_parser(("message",), ("error",))
    assert STRIPE_PARSER(
        _response(400, {"error": {"type": "t", "code": "c", "message": "m"}})
    ) == UpstreamError("c", "m")
    assert STRIPE_PARSER(_response(400, {"error": {"type": "t", "message": "m"}})) == UpstreamError(
        "t", "m"
    )
    assert STRIPE_PARSER(_response(400, {"error": {"code": 0, "message": "m"}})) == UpstreamError(
        "0", "m"
    )
    assert lago(
        _response(404, {"status": 404, "error": "Not Found", "code": "x_not_found"})
    ) == UpstreamError("x_not_found", "Not Found")
    assert chartmogul(
        _response(400, {"code": 400, "message": "Bad", "param": "p"})
    ) == UpstreamError("400", "Bad")
    assert chartmogul(_response(404, {"error": "Invoice not found"})) == UpstreamError(
        None, "Invoice not found"
    )
    for odd in (
        _response(500, text="oops"),
        _response(500, [1, 2]),
        _response(500, {"x": 1}),
        _response(500, {"error": "flat"}),
    ):
        assert STRIPE_PARSER(odd) == UpstreamError(None, None)


def test_kind_for_status_and_retry_after_parsing() -> None:
    assert kind_for_status(408) is ErrorKind.TIMEOUT
    assert kind_for_status(418) is ErrorKind.BAD_REQUEST
    assert kind_for_status(301) is ErrorKind.BAD_RESPONSE
    assert retry_after_seconds(_response(429, {}, **{"Retry-After": "2.5"})) == 2.5
    assert retry_after_seconds(_response(429, {}, **{"Retry-After": "-3"})) == 0.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    from_date = retry_after_seconds(
        _response(429, {}, **{"Retry-After": format_datetime(later, usegmt=True)})
    )
    assert from_date is not None and 25 < from_date <= 30
    assert retry_after_seconds(_response(429, {}, **{"X-RateLimit-Reset": "7"})) == 7.0
    epoch = f"{time.time() + 10:.0f}"
    from_epoch = retry_after_seconds(_response(429, {}, **{"X-RateLimit-Reset": epoch}))
    assert from_epoch is not None and 8 < from_epoch <= 11
    assert retry_after_seconds(_response(429, {}, **{"Retry-After": "nan"})) is None
    assert retry_after_seconds(_response(429, {}, **{"Retry-After": "soon"})) is None
    assert retry_after_seconds(_response(429, {})) is None
    reset_only = _response(503, {}, **{"X-RateLimit-Reset": "7"})
    assert retry_after_seconds(reset_only, rate_limit_reset=False) is None


# -- the key never leaks ---------------------------------------------------------------------


async def test_api_key_never_in_errors_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app, _ = make_sim()
    set_faults(app, next_statuses=[503])
    http = make_http(app, max_retries=1)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/echo-key")
    error = info.value
    assert error.kind is ErrorKind.BAD_REQUEST
    assert "Invalid API Key provided: [redacted]" in error.message  # the echo arrived, masked
    texts = [
        str(error),
        repr(error),
        error.message,
        str(error.code),
        repr(http.settings),
        str(http.settings),
        repr(http),
    ]
    texts += [record.getMessage() for record in caplog.records]
    assert any("retrying GET /v1/echo-key" in text for text in texts)  # the log was captured
    for text in texts:
        assert API_KEY not in text
    for entry in log_of(app):
        assert "authorization" not in entry.headers
        assert API_KEY not in repr(entry)
    await http.aclose()


async def test_basic_auth_credentials_are_masked_too() -> None:
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    app, _ = make_sim()
    http = make_http(app, auth_headers={"Authorization": f"Basic {token}"})
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/echo-key")
    await http.aclose()
    assert API_KEY not in str(info.value)
    assert token not in str(info.value)
    assert "header [redacted]" in info.value.message


@pytest.mark.parametrize(
    "echo",
    [
        "Invalid API Key provided: sk_test_****************1234",  # Stripe's own masking
        "Invalid API Key provided: SK_LIVE_abcdefghijklmnop",
        "expected header Authorization: Bearer rk_live_51HkQzaB",
        "got Basic c2tfdGVzdF9zYW5kYm94Og==",
        "key ********************9f3a rejected",
    ],
)
def test_key_like_tokens_are_redacted_whatever_their_form(echo: str) -> None:
    redacted = redact(echo)
    assert "[redacted]" in redacted
    for fragment in ("1234", "abcdefghijklmnop", "51HkQzaB", "c2tfdGVzdF9zYW5kYm94Og", "9f3a"):
        assert fragment not in redacted


def test_redaction_keeps_ordinary_messages() -> None:
    message = "No such customer: 'cus_NffrFeUfNV2Hib' (invalid_request_error)"
    assert redact(message) == message


async def test_transport_errors_carry_no_httpx_context() -> None:
    """An httpx exception holds the request and its auth header: it must not ride along."""

    def refuse(request: httpx.Request) -> Exception:
        return httpx.ConnectError(f"refused {request.headers['authorization']}", request=request)

    app, _ = make_sim()
    flaky = FlakyTransport(httpx.ASGITransport(app=app), refuse, failures=10)
    http = make_http(transport=flaky, max_retries=0)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert API_KEY not in str(info.value)


# -- connection failures through the aiohttp transport ---------------------------------------


def unused_port_url() -> str:
    """A loopback URL nobody listens on: a port bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_refused_connection_is_unavailable_not_a_timeout() -> None:
    """httpx-aiohttp raises ``httpx.ConnectTimeout`` for ECONNREFUSED; it is an outage."""
    sends = FlakyTransport(AiohttpTransport(), lambda request: RuntimeError(), 0)
    http = make_http(transport=sends, base_url=unused_port_url(), max_retries=1)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    error = info.value
    assert (error.kind, error.message) == (
        ErrorKind.UNAVAILABLE,
        "connection refused calling GET /v1/items/it_1",
    )
    assert error.__cause__ is None and error.__context__ is None
    assert sends.sends == 2  # retried like any outage
    assert http.breaker.failures == 1  # one logical call, one verdict


class AiohttpRaising(httpx.AsyncBaseTransport):
    """Raises an aiohttp error through httpx-aiohttp's own mapping, as its transport does."""

    def __init__(self, error: Callable[[], Exception]) -> None:
        self.error = error
        self.sends = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sends += 1
        with map_aiohttp_exceptions():
            raise self.error()


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            lambda: aiohttp.ConnectionTimeoutError("Connection timeout to host demo.test"),
            ErrorKind.TIMEOUT,
            "ConnectTimeout calling GET /v1/x",
        ),
        (
            lambda: aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
            ErrorKind.TIMEOUT,
            "ReadTimeout calling GET /v1/x",
        ),
        (
            lambda: aiohttp.ServerDisconnectedError(),
            ErrorKind.UNAVAILABLE,
            "connection failed (ServerDisconnectedError) calling GET /v1/x",
        ),
    ],
)
async def test_only_a_real_timeout_under_connect_timeout_is_a_timeout(
    error: Callable[[], Exception], kind: ErrorKind, message: str
) -> None:
    """httpx-aiohttp maps every aiohttp connection error to ``ConnectTimeout``: the cause
    decides whether it was one."""
    transport = AiohttpRaising(error)
    http = make_http(transport=transport, max_retries=0)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/x")
    await http.aclose()
    assert (info.value.kind, info.value.message) == (kind, message)
    assert transport.sends == 1


async def test_a_url_httpx_cannot_parse_is_a_bad_request_never_sent(demo: Demo) -> None:
    app, _, http = demo
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/a\x00b")
    assert info.value.kind is ErrorKind.BAD_REQUEST
    assert info.value.message.startswith("InvalidURL for GET /v1/items/")
    assert info.value.__context__ is None
    assert log_of(app) == [] and http.breaker.failures == 0


# -- retries ---------------------------------------------------------------------------------


async def test_get_retried_on_503_until_success(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, next_statuses=[503, 503])
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert [entry.status for entry in log_of(app)] == [503, 503, 200]


async def test_max_retries_is_respected() -> None:
    app, _ = make_sim()
    set_faults(app, next_statuses=[503, 500, 502, 503])
    http = make_http(app, max_retries=1)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert (info.value.kind, info.value.status) == (ErrorKind.UNAVAILABLE, 500)
    assert len(log_of(app)) == 2


async def test_get_retried_on_429(demo: Demo) -> None:
    app, _, http = demo
    simulator_state(app).set_faults(Faults(next_statuses=[429], retry_after=0))
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert [entry.status for entry in log_of(app)] == [429, 200]


@pytest.mark.parametrize(
    ("make_error", "kind"),
    [
        (lambda request: httpx.ConnectError("refused", request=request), ErrorKind.UNAVAILABLE),
        (lambda request: httpx.ReadTimeout("slow", request=request), ErrorKind.TIMEOUT),
        (lambda request: httpx.RemoteProtocolError("eof", request=request), ErrorKind.UNAVAILABLE),
    ],
)
async def test_get_retried_on_connection_errors_and_timeouts(
    make_error: Callable[[httpx.Request], Exception], kind: ErrorKind
) -> None:
    app, _ = make_sim()
    flaky = FlakyTransport(httpx.ASGITransport(app=app), make_error, failures=2)
    http = make_http(transport=flaky, max_retries=2)
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    assert (flaky.sends, len(log_of(app))) == (3, 1)
    flaky.failures, flaky.sends = 10, 0
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert info.value.kind is kind
    assert flaky.sends == 3


async def test_post_without_idempotency_key_is_not_retried(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, next_statuses=[503, 503])
    with pytest.raises(ProviderError) as info:
        await http.request("POST", "/v1/items", data={"name": "x"})
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert len(log_of(app)) == 1


async def test_post_with_idempotency_key_retried_with_the_same_header(demo: Demo) -> None:
    app, sim, http = demo
    set_faults(app, next_statuses=[503, 429])
    simulator_state(app).faults.retry_after = 0
    body = await http.request("POST", "/v1/items", data={"name": "x"}, idempotency_key="idem-1")
    assert body["object"] == "item"
    log = log_of(app)
    assert [entry.status for entry in log] == [503, 429, 200]
    assert [entry.headers.get("idempotency-key") for entry in log] == ["idem-1"] * 3
    assert len(sim.forms) == 1


async def test_idempotency_key_in_headers_counts_and_is_not_duplicated(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, next_statuses=[503])
    await http.request("POST", "/v1/items", data={"a": "1"}, headers={"idempotency-key": "h-1"})
    await http.request(
        "POST",
        "/v1/items",
        data={"a": "1"},
        headers={"idempotency-key": "old"},
        idempotency_key="new",
    )
    assert [entry.headers.get("idempotency-key") for entry in log_of(app)] == [
        "h-1",
        "h-1",
        "new",
    ]


async def test_retry_writes_retries_a_naturally_idempotent_write(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, next_statuses=[502, 503])
    assert await http.request("DELETE", "/v1/items/it_1", retry_writes=True) is None
    assert [entry.status for entry in log_of(app)] == [502, 503, 204]


async def test_bad_request_never_retried(demo: Demo) -> None:
    app, _, http = demo
    for method, key in (("GET", None), ("POST", "idem-2")):
        with pytest.raises(ProviderError) as info:
            await http.request(method, "/v1/status/400", idempotency_key=key, retry_writes=True)
        assert info.value.kind is ErrorKind.BAD_REQUEST
    assert len(log_of(app)) == 2


async def test_malformed_json_is_bad_response_not_retried(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, malformed_next=1)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    assert (info.value.kind, info.value.status) == (ErrorKind.BAD_RESPONSE, 200)
    assert len(log_of(app)) == 1
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}


async def test_outage_is_unavailable_after_every_retry() -> None:
    app, _ = make_sim()
    set_faults(app, outage=True)
    http = make_http(app, max_retries=3)
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert (info.value.kind, info.value.status, info.value.message) == (
        ErrorKind.UNAVAILABLE,
        503,
        "HTTP 503",
    )
    assert len(log_of(app)) == 4


# -- Retry-After and X-RateLimit-Reset -------------------------------------------------------


async def test_retry_after_is_honoured(demo: Demo) -> None:
    app, _, http = demo
    set_faults(app, next_statuses=[429], retry_after=0.05)
    started = time.monotonic()
    await http.request("GET", "/v1/items/it_1")
    assert time.monotonic() - started >= 0.05
    log = log_of(app)
    assert [entry.status for entry in log] == [429, 200]
    assert log[1].at - log[0].at >= 0.045


async def test_x_ratelimit_reset_is_honoured(demo: Demo) -> None:
    app, sim, http = demo
    started = time.monotonic()
    assert await http.request("GET", "/v1/limited", params={"reset": "0.05"}) == {"ok": True}
    assert time.monotonic() - started >= 0.05
    assert sim.limited_calls == 2 and len(log_of(app)) == 2


async def test_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    app, _ = make_sim()
    set_faults(app, next_statuses=[429], retry_after=30)
    http = make_http(app, deadline=2.0, max_retries=5)
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    elapsed = time.monotonic() - started
    await http.aclose()
    assert (info.value.kind, info.value.retry_after) == (ErrorKind.RATE_LIMITED, 30.0)
    assert elapsed < 1.0
    assert len(log_of(app)) == 1


async def test_retry_after_on_503_is_honoured() -> None:
    app, _ = make_sim()
    state = simulator_state(app)

    async def unavailable_once(request: Request) -> Response:
        if len(state.log) == 0:
            return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "0.05"})
        return JSONResponse({"ok": True})

    app.router.routes.append(Route("/v1/busy", unavailable_once))
    http = make_http(app)
    started = time.monotonic()
    assert await http.request("GET", "/v1/busy") == {"ok": True}
    assert time.monotonic() - started >= 0.05
    await http.aclose()


# -- timeouts and the deadline (live loopback server: ASGITransport ignores httpx timeouts) ---


def counting_live_transport() -> FlakyTransport:
    return FlakyTransport(httpx.AsyncHTTPTransport(), lambda request: RuntimeError(), 0)


async def test_read_timeout_on_a_live_server(live_server: Callable[[ASGIApp], str]) -> None:
    app, _ = make_sim()
    set_faults(app, latency_ms=400)
    sends = counting_live_transport()
    http = make_http(transport=sends, base_url=live_server(app), read_timeout=0.05, max_retries=1)
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    elapsed = time.monotonic() - started
    await http.aclose()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert "ReadTimeout" in info.value.message
    assert sends.sends == 2
    assert elapsed < 0.4  # both attempts gave up long before the 400 ms answer


async def test_deadline_bounds_the_whole_call_including_retries(
    live_server: Callable[[ASGIApp], str],
) -> None:
    app, _ = make_sim()
    set_faults(app, latency_ms=600)
    sends = counting_live_transport()
    http = make_http(
        transport=sends,
        base_url=live_server(app),
        read_timeout=0.1,
        deadline=0.35,
        max_retries=10,
    )
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    elapsed = time.monotonic() - started
    await http.aclose()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert 0.1 <= elapsed < 0.8
    assert 2 <= sends.sends <= 4  # retried, but nowhere near 11 attempts


async def test_slow_body_read_timeout_and_deadline(live_server: Callable[[ASGIApp], str]) -> None:
    app, _ = make_sim()
    url = live_server(app)
    set_faults(app, slow_body_ms=40)  # four 10 ms pieces: arrives whole
    http = make_http(base_url=url, transport=httpx.AsyncHTTPTransport())
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    await http.aclose()

    set_faults(app, slow_body_ms=400)  # 100 ms between pieces
    http = make_http(
        base_url=url, transport=httpx.AsyncHTTPTransport(), read_timeout=0.03, max_retries=0
    )
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    await http.aclose()
    assert (info.value.kind, info.value.message.split(" ")[0]) == (ErrorKind.TIMEOUT, "ReadTimeout")

    set_faults(app, slow_body_ms=400)  # each piece within read_timeout, the whole not
    http = make_http(
        base_url=url,
        transport=httpx.AsyncHTTPTransport(),
        read_timeout=1.0,
        deadline=0.15,
        max_retries=0,
    )
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        await http.request("GET", "/v1/items/it_1")
    assert time.monotonic() - started < 0.35
    await http.aclose()
    assert info.value.kind is ErrorKind.TIMEOUT
    assert "deadline" in info.value.message


# -- concurrency cap -------------------------------------------------------------------------


async def test_at_most_max_concurrency_requests_in_flight(demo: Demo) -> None:
    app, sim, _ = demo
    http = make_http(app, max_concurrency=2)
    results = await asyncio.gather(
        *(http.request("GET", "/v1/slow", params={"s": "0.02"}) for _ in range(6))
    )
    await http.aclose()
    assert results == [{"ok": True}] * 6
    assert sim.peak == 2
    assert len(log_of(app)) == 6


async def test_concurrency_cap_with_latency_faults_on_a_live_server(
    live_server: Callable[[ASGIApp], str],
) -> None:
    app, sim = make_sim()
    set_faults(app, latency_ms=20)
    http = make_http(
        base_url=live_server(app), transport=httpx.AsyncHTTPTransport(), max_concurrency=2
    )
    await asyncio.gather(*(http.request("GET", "/v1/slow", params={"s": "0.02"}) for _ in range(5)))
    await http.aclose()
    assert sim.peak == 2
    assert len(log_of(app)) == 5


async def test_waiting_for_a_slot_past_the_deadline_is_no_breaker_failure(demo: Demo) -> None:
    """Time spent queued behind our own rate limit says nothing about the provider."""
    app, _, _ = demo
    http = make_http(
        app, rate_limit=1.0, rate_burst=1, deadline=0.1, max_retries=0, breaker_threshold=1
    )
    results = await asyncio.gather(
        http.request("GET", "/v1/items/a"),
        http.request("GET", "/v1/items/b"),
        return_exceptions=True,
    )
    await http.aclose()
    assert results[0] == {"id": "a", "object": "item"}
    assert isinstance(results[1], ProviderError) and results[1].kind is ErrorKind.TIMEOUT
    assert "waiting for a slot" in results[1].message
    assert http.breaker.failures == 0 and http.breaker.state == "closed"
    assert len(log_of(app)) == 1


async def test_client_side_rate_limit_paces_requests(demo: Demo) -> None:
    app, _, _ = demo
    http = make_http(app, rate_limit=100.0, rate_burst=1)
    started = time.monotonic()
    for n in range(4):
        await http.request("GET", f"/v1/items/{n}")
    await http.aclose()
    assert time.monotonic() - started >= 0.029  # three refills of 10 ms each
    assert len(log_of(app)) == 4


async def test_default_headers_are_sent_and_auth_wins(demo: Demo) -> None:
    app, _, _ = demo
    http = ProviderHTTP(
        demo_settings(),
        auth_headers=bearer(),
        error_parser=STRIPE_PARSER,
        default_headers={"Stripe-Version": "2026-10-28.endive", "Authorization": "Bearer nope"},
        transport=httpx.ASGITransport(app=app),
    )
    assert await http.request("GET", "/v1/items/it_1") == {"id": "it_1", "object": "item"}
    await http.aclose()
    assert log_of(app)[0].headers["stripe-version"] == "2026-10-28.endive"


@pytest.mark.parametrize("base", ["http://p.test", "http://p.test/", "http://p.test/api/v1"])
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/customers/cus_1", None),
        ("/v1/customers", {"email": "a+b@x.example", "limit": 100}),
        ("/v1/customers/search", [("query", "email:'a' OR email:'b'"), ("expand[]", "x")]),
        ("/v2/customers/a%20b%2Fc", {}),
        ("/v1/customers?limit=1", {"email": "ümlaut@x.example"}),
        ("/v1/customers?limit=1", {}),
    ],
)
def test_request_urls_match_what_httpx_would_build(
    base: str, path: str, params: dict[str, object] | list[tuple[str, str]] | None
) -> None:
    """ProviderHTTP builds one absolute URL itself (cheaper); it must be httpx's URL exactly."""
    settings = ProviderSettings(name="stripe", base_url=base, api_key="k")
    http = ProviderHTTP(settings, auth_headers={}, error_parser=json_error_parser(("error",)))
    with httpx.Client(base_url=base) as client:
        expected = client.build_request("GET", path, params=params).url

    assert httpx.URL(http.urls.absolute(path, params)) == expected
    assert http._url("GET", path, params) == str(expected)  # what goes on the wire
