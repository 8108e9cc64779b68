"""Shared fixtures: simulators in-process (ASGI) or on loopback (for the official SDKs)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import settings as hypothesis_settings
from multidict import CIMultiDict, CIMultiDictProxy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.config import IdentitySettings, ProviderSettings, Settings, sandbox_settings, tune
from gateway.model import CustomerRecord
from gateway.providers.contract import ProviderAdapter
from gateway.providers.upstream.wire import Answer
from gateway.sandbox.base import LoggedRequest, simulator_state
from gateway.sandbox.faults import Faults
from gateway.sandbox.runner import ThreadedServer

if TYPE_CHECKING:
    from gateway.sandbox.dataset import Dataset
    from tests.servers import PostgresServer

AdapterT = TypeVar("AdapterT", bound=ProviderAdapter)

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "dev" (the default) keeps the suite quick,
# "nightly" runs many more examples. Tests that set max_examples themselves keep their own.
hypothesis_settings.register_profile("dev", max_examples=40, deadline=None)
hypothesis_settings.register_profile("nightly", max_examples=2000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


REPO = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
"""The provider reference documents beside the repository (``../shared/reference``)."""


def answer(
    status: int, body: Any = None, *, content: bytes | None = None, **headers: str
) -> Answer:
    """A provider's answer as the wire reads it: ``body`` as JSON, or ``content`` as is."""
    if content is None:
        content = b"" if body is None else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    return Answer(status, CIMultiDictProxy(CIMultiDict(headers)), content)


def skip_or_fail(message: str) -> NoReturn:
    """Skip on a developer's machine, fail in CI (``CI=true``): CI has everything a test needs
    (``shared/`` beside the clone, node and npm), so a silent skip there would hide a test."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _gateway_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The gateway's data directory (the embedded identity index) in a temp directory for the
    whole session, so no test writes under the real home; ``CUSTOMER_GATEWAY_INDEX_URL`` unset
    so it is where the index goes."""
    path = tmp_path_factory.mktemp("gateway-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUSTOMER_GATEWAY_DATA_DIR", str(path))
        patch.delenv("CUSTOMER_GATEWAY_INDEX_URL", raising=False)
        yield path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server from the system's binaries for the session (tests/servers.py);
    skipped where they are absent, failed in CI (:func:`skip_or_fail`)."""
    from tests.servers import PostgresServer, ServerUnavailable

    server = PostgresServer()
    try:
        server.start()
    except ServerUnavailable as exc:
        server.stop()
        skip_or_fail(f"PostgreSQL unavailable: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def index_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty identity index database, per backend (a SQLite file, as the
    embedded default keeps it; a fresh schema on the session's PostgreSQL). In-memory SQLite,
    the sandbox's, is what the gateway harness runs on."""
    from tests.servers import reset_postgres

    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'index.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    await reset_postgres(server.url)
    url: str = server.url
    return url


def shared_reference(name: str, env: str | None = None) -> Path:
    """A reference document's path; ``env`` names a variable that overrides it.

    A missing document skips the test, or fails it in CI (:func:`skip_or_fail`).
    """
    path = Path(os.environ[env]) if env and os.environ.get(env) else SHARED_REFERENCE / name
    if not path.is_file():
        skip_or_fail(f"reference document {path} not found" + (f" (set {env})" if env else ""))
    return path


@pytest.fixture
def live_server() -> Iterator[Callable[[ASGIApp], str]]:
    """Start ASGI apps on free 127.0.0.1 ports; every one is stopped when the test ends."""
    servers: list[ThreadedServer] = []

    def start(app: ASGIApp) -> str:
        server = ThreadedServer(app)
        server.__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__(None, None, None)


async def eventually(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Wait until ``condition()`` holds, checking every few milliseconds; fail after
    ``within`` seconds (a bound, not a measurement)."""
    for _ in range(int(within / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    assert condition(), f"still false after {within}s"


@dataclass
class GatewayHarness:
    """The gateway app in-process, talking to the five simulators in-process."""

    client: httpx.AsyncClient
    simulators: dict[str, Starlette]
    settings: Settings
    app: Starlette

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, *, status: int = 200
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    def calls(self, provider: str | None = None) -> list[LoggedRequest]:
        """Upstream requests so far, from the simulators' own request logs."""
        names = [provider] if provider else list(self.simulators)
        return [entry for name in names for entry in simulator_state(self.simulators[name]).log]

    def call_counts(self) -> dict[str, int]:
        return {name: len(simulator_state(app).log) for name, app in self.simulators.items()}

    def read_counts(self) -> dict[str, int]:
        """Upstream calls per provider that made any, the sync's polls of the events lists
        left out (what a read cost)."""
        counts = {
            name: sum(1 for call in self.calls(name) if call.path != "/v1/events")
            for name in self.simulators
        }
        return {name: count for name, count in counts.items() if count}

    def reset_calls(self) -> None:
        for app in self.simulators.values():
            simulator_state(app).log.clear()

    def set_faults(self, provider: str, faults: Faults) -> None:
        simulator_state(self.simulators[provider]).set_faults(faults)

    async def synced(self) -> None:
        """Wait (at most 30 s) until the background sync has backfilled every provider."""
        runner = self.app.state.sync
        assert runner is not None, "the harness runs no sync (gateway_harness(sync=True))"
        async with asyncio.timeout(30):
            while not runner.status().synced:  # noqa: ASYNC110 (the runner has no event to await)
                await asyncio.sleep(0.01)


def without_stripe_search(simulator: Starlette) -> None:
    """Make a Stripe simulator answer its search route 404, like an account (or a
    Stripe-compatible fake) without customer search; the rest of its API is unchanged."""

    async def no_search(request: Request) -> Response:
        message = f"Unrecognized request URL (GET: {request.url.path})."
        return JSONResponse({"error": {"message": message}}, status_code=404)

    simulator.router.routes.insert(0, Route("/v1/customers/search", no_search))


def build_simulators(dataset: Dataset) -> dict[str, Starlette]:
    from gateway.sandbox.cluster import SandboxCluster

    return SandboxCluster.from_dataset(dataset).apps


@asynccontextmanager
async def gateway_harness(
    dataset: Dataset,
    settings: Settings | None = None,
    *,
    breaker_reset: float = 0.05,
    graph: bool | str = False,
    sync: bool = False,
    **app_options: Any,
) -> AsyncIterator[GatewayHarness]:
    """``breaker_reset``: seconds an open circuit stays open; short by default so a test's
    outage does not outlive it, long for a test that reads an open circuit. ``graph``: on an
    identity index, in memory (``True``) or at this URL (the ``index_url`` fixture gives one per
    backend); ``sync``: with the background sync running on it (wait for it with
    :meth:`GatewayHarness.synced`). ``app_options`` go to ``create_app``
    (``metrics=True``, ``tracer_provider=...``, ``index=...``)."""
    from gateway.index import open_index
    from gateway.index.engine import MEMORY_URL
    from gateway.server import create_app

    simulators = build_simulators(dataset)
    base = settings or Settings(providers=sandbox_settings())
    # Tests must not wait on real backoff: keep retries but make them instant.
    fast = {
        name: tune(p, backoff_base=0.001, backoff_max=0.005, breaker_reset=breaker_reset)
        for name, p in base.providers.items()
    }
    base = replace(base, providers=fast, sync=replace(base.sync, enabled=sync))
    transports = {name: httpx.ASGITransport(app=app) for name, app in simulators.items()}
    async with contextlib.AsyncExitStack() as stack:
        if graph and "index" not in app_options:
            url = graph if isinstance(graph, str) else MEMORY_URL
            index = await open_index(url, base.identity)
            stack.push_async_callback(index.aclose)
            app_options["index"] = index
        app = create_app(base, transports=transports, **app_options)
        await stack.enter_async_context(LifespanManager(app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        )
        yield GatewayHarness(client=client, simulators=simulators, settings=base, app=app)


@pytest.fixture(scope="session")
def small_dataset() -> Dataset:
    from gateway.sandbox.dataset import generate

    return generate(seed=7, customers=40)


@pytest.fixture
async def gateway(small_dataset: Dataset) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(small_dataset) as harness:
        yield harness


# -- log lines as `serve --log-format json` writes them ------------------------------------------


@dataclass
class JsonLogs:
    """The JSON lines logged since the fixture started, parsed."""

    stream: io.StringIO

    def lines(self, logger: str | None = None) -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        return [line for line in parsed if logger is None or line["logger"] == logger]


@pytest.fixture
def json_logs() -> Iterator[JsonLogs]:
    """Every record at INFO and above, through the JSON formatter ``serve`` uses (added beside
    pytest's own handlers rather than replacing them, as :func:`configure_logging` would)."""
    from gateway.logs import QUIET_LOGGERS, formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LOGGERS)}
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    try:
        yield JsonLogs(stream)
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# -- one adapter on one simulator ---------------------------------------------------------------


def fast_settings(name: str, base_url: str, api_key: str, **changes: Any) -> ProviderSettings:
    """Settings for adapter tests: two retries with millisecond backoffs, a 5 s deadline."""
    return tune(
        ProviderSettings(name=name, base_url=base_url, api_key=api_key),
        max_retries=2,
        backoff_base=0.001,
        backoff_max=0.005,
        deadline=5.0,
        **changes,
    )


@dataclass
class AdapterFactory:
    """Builds adapters talking to simulators in-process (``httpx.ASGITransport``)."""

    made: list[ProviderAdapter] = field(default_factory=list)

    def __call__(
        self,
        adapter_class: Callable[..., AdapterT],
        app: Starlette,
        settings: ProviderSettings,
        identity: IdentitySettings | None = None,
        **changes: Any,
    ) -> AdapterT:
        """An ``adapter_class`` on ``app`` with ``settings`` (``changes``: file keys to tune)."""
        adapter = adapter_class(
            tune(settings, **changes), identity, transport=httpx.ASGITransport(app=app)
        )
        self.made.append(adapter)
        return adapter

    async def aclose(self) -> None:
        for adapter in self.made:
            await adapter.aclose()


@pytest.fixture
async def adapter_factory() -> AsyncIterator[AdapterFactory]:
    """An :class:`AdapterFactory`; every adapter it made is closed when the test ends."""
    factory = AdapterFactory()
    yield factory
    await factory.aclose()


def request_log(app: Starlette) -> list[LoggedRequest]:
    """The upstream requests a simulator has answered, in order (its own request log)."""
    return simulator_state(app).log


async def walk_pages(
    adapter: ProviderAdapter, limit: int, *, max_pages: int = 10
) -> list[CustomerRecord]:
    """Every record ``list_page`` yields from the first page to the end (bounded)."""
    seen: list[CustomerRecord] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = await adapter.list_page(cursor, limit)
        seen += page.records
        cursor = page.next_cursor
        if cursor is None:
            break
    return seen
