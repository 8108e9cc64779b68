"""``customer-gateway``: run the gateway (``serve``), the sandbox alone (``sandbox``), fill the
identity index (``sync``), migrate it (``migrate``), check the configuration (``config check``),
or export the schema (``export-schema``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.federation.versions import FEDERATION_VERSIONS

from gateway.config import DEFAULT_FEDERATION_VERSION, ConfigError, Settings, load_settings
from gateway.config.schema import MODES
from gateway.index.engine import IndexUnavailable
from gateway.logs import LOG_FORMATS, LOG_LEVELS, configure_logging
from gateway.providers.registry import PROVIDERS, SPECS
from gateway.sandbox.cluster import SandboxCluster
from gateway.sandbox.dataset import Dataset, DatasetError, generate, load_dataset
from gateway.sandbox.runner import server_url

if TYPE_CHECKING:
    from gateway.index.contract import IdentityIndex
    from gateway.sync.status import SyncStatus

logger = logging.getLogger("customer_gateway")
T = TypeVar("T")

IndexFactory = Callable[[Settings], Awaitable["IdentityIndex"]]
"""Opens the identity index the commands work on (the caller closes it)."""


async def open_index(settings: Settings) -> IdentityIndex:
    """The configured identity index (migrated to the current schema): the one import site for
    the store."""
    from gateway.index.factory import open_configured_index

    return await open_configured_index(settings)


def _add_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="sandbox (fake data, loopback only), live (configured providers only, checked "
        "strictly) or auto (the sandbox when nothing is configured); default: "
        "CUSTOMER_GATEWAY_MODE, else auto",
    )


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _add_dataset_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sandbox dataset")
    group.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    group.add_argument(
        "--customers", type=int, default=200, help="customers to generate (default 200)"
    )
    group.add_argument(
        "--dataset", type=Path, help="load records from this JSON file (see docs/dataset.md)"
    )
    group.add_argument(
        "--faults",
        type=_faults_json,
        default={},
        help='start-up faults as JSON, e.g. \'{"lago": {"latency_ms": 50, "error_rate": 0.1}}\' '
        "(see docs/sandbox.md)",
    )


def _add_log_options(parser: argparse.ArgumentParser, *, env_note: str = "") -> None:
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-level", type=str.lower, choices=LOG_LEVELS, default="info", help="(default info)"
    )
    group.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=None,
        help="json: one JSON object per line; text: for reading in a terminal; auto (the "
        f"default): text when stderr is a terminal, else json{env_note}",
    )


def _add_process_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("processes and shutdown (see docs/deployment.md)")
    group.add_argument(
        "--workers",
        type=_at_least(1, int),
        default=1,
        help="gateway processes sharing the port (default 1); state is per process",
    )
    group.add_argument(
        "--drain",
        type=_at_least(0, float),
        default=None,
        metavar="SECONDS",
        help="on SIGTERM/Ctrl-C, how long requests in flight may still run before they are "
        "answered 503 SHUTTING_DOWN (default: CUSTOMER_GATEWAY_DRAIN_SECONDS, else 30)",
    )


def _at_least(low: float, cast: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value >= low:  # also refuses NaN
            raise argparse.ArgumentTypeError(f"must be at least {low:g}, got {text}")
        return value

    return parse


def _faults_json(text: str) -> dict[str, dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise argparse.ArgumentTypeError('expected {"provider": {"setting": value}}')
    return value


def _cluster(args: argparse.Namespace, keys: Mapping[str, str] | None = None) -> SandboxCluster:
    cluster = SandboxCluster.from_dataset(_dataset(args), keys)
    try:
        cluster.set_faults(args.faults)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--faults: {exc}") from None
    return cluster


def _dataset(args: argparse.Namespace) -> Dataset:
    if args.customers < 0:
        raise SystemExit("--customers must be >= 0")
    if args.dataset is not None:
        return load_dataset(args.dataset)
    return generate(seed=args.seed, customers=args.customers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="customer-gateway",
        description="One GraphQL Customer across Stripe, ChartMogul, FirstOfficer, Lago, Tofupay.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run the GraphQL gateway (on the built-in sandbox unless providers are configured)",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--sandbox-base-port",
        type=int,
        default=None,
        help="first sandbox port (default: 8101..8105; 0 picks free ports)",
    )
    serve.add_argument(
        "--no-graphiql", action="store_true", help="serve the API without the GraphiQL page"
    )
    _add_log_options(serve, env_note=" (env CUSTOMER_GATEWAY_LOG_FORMAT)")
    _add_mode_option(serve)
    _add_process_options(serve)
    _add_dataset_options(serve)

    sandbox = sub.add_parser("sandbox", help="serve every provider simulator on 127.0.0.1")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument(
        "--base-port",
        type=int,
        default=None,
        help="first port; providers take consecutive ports (default 8101..8105)",
    )
    for spec in SPECS:
        sandbox.add_argument(
            f"--{spec.name}-key",
            default=os.environ.get(f"SANDBOX_{spec.env_prefix}_KEY", spec.sandbox_key),
            help=f"API key the {spec.name} simulator accepts (env SANDBOX_{spec.env_prefix}_KEY)",
        )
    _add_log_options(sandbox)
    _add_dataset_options(sandbox)

    sync = sub.add_parser(
        "sync",
        help="list every configured provider to the end into the identity index (resumable: a "
        "run continues where the last one stopped); exit 1 naming any provider that failed",
    )
    sync.add_argument(
        "--sandbox",
        action="store_true",
        help="sync the built-in sandbox, started by this command from the dataset options "
        "(the same options give serve the same data); without it, sync needs configured "
        "providers",
    )
    _add_mode_option(sync)
    _add_log_options(sync)
    _add_dataset_options(sync)

    config = sub.add_parser("config", help="inspect the configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check",
        help="print the effective configuration (keys masked) and probe every enabled provider "
        "with one authenticated read; exit 1 if a probe fails, 2 on a configuration error",
    )
    _add_mode_option(check)
    check.add_argument(
        "--timeout", type=_positive, default=None, help="seconds per provider probe (default 5)"
    )

    export = sub.add_parser("export-schema", help="print the GraphQL SDL (or write it to a file)")
    export.add_argument("--output", type=Path)
    export.add_argument(
        "--federation-version",
        choices=tuple(FEDERATION_VERSIONS),
        default=DEFAULT_FEDERATION_VERSION,
        help=f"Apollo Federation version the SDL links (default {DEFAULT_FEDERATION_VERSION}, "
        "what schema.graphql holds)",
    )
    migrate = sub.add_parser(
        "migrate",
        help="bring the identity index's schema to the newest revision and print it "
        "(serve does this on start too)",
    )
    migrate.add_argument(
        "--url",
        default=None,
        help="SQLAlchemy URL of the index (default: CUSTOMER_GATEWAY_INDEX_URL, else "
        "index.sqlite3 in the data directory)",
    )
    return parser


async def _run_migrate(args: argparse.Namespace) -> None:
    from gateway.index import index_url, safe_url, upgrade_to_head

    url = args.url or index_url(load_settings())
    revision = await upgrade_to_head(url)
    print(f"identity index at {safe_url(url)}: schema at revision {revision} (head)", flush=True)


def _stop_on_signals(*, ignore_hup: bool = False) -> asyncio.Event:
    """An event SIGINT or SIGTERM sets. Call it before announcing that the server runs, so no
    signal finds the default handlers. ``ignore_hup`` logs and ignores SIGHUP (by default it
    ends the process)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if ignore_hup and hasattr(signal, "SIGHUP"):
        from gateway.workers import ignore_sighup

        loop.add_signal_handler(signal.SIGHUP, ignore_sighup)
    return stop


async def _run_sandbox(args: argparse.Namespace) -> None:
    keys = {name: getattr(args, f"{name}_key") for name in PROVIDERS}
    cluster = _cluster(args, keys)
    await cluster.start(args.host, args.base_port)
    stop = _stop_on_signals()
    try:
        print(f"customer-gateway sandbox: {len(SPECS)} provider simulators", flush=True)
        for name, server in cluster.servers.items():
            print(f"  {name:<13} {server.url:<28} key: {cluster.keys[name]}", flush=True)
        print("Admin: <url>/__sandbox/requests, <url>/__sandbox/faults. Ctrl-C stops.", flush=True)
        await stop.wait()
    finally:
        await cluster.stop()


async def _run_serve(args: argparse.Namespace, settings: Settings) -> None:
    from gateway.auth.control import require_access_config
    from gateway.config.modes import check_host

    check_host(settings, args.host)
    if args.workers > 1 and settings.metrics_address is not None:
        raise ConfigError(
            "metrics_address with --workers: each worker process keeps its own counters, so one "
            "/metrics listener would show a single worker; serve one process per port to scrape"
        )
    require_access_config(settings)  # access control: live mode needs keys/JWTs or auth.open
    if args.drain is not None:
        settings = replace(settings, drain_seconds=args.drain)
    cluster: SandboxCluster | None = None
    if settings.sandbox:
        cluster = _cluster(args)
        await cluster.start("127.0.0.1", args.sandbox_base_port)
        settings = replace(settings, providers=cluster.provider_settings())
    try:
        if args.workers > 1:
            from gateway.workers import serve_workers

            if cluster is not None and args.port:
                # Workers are given settings, so the secrets travel in them (port 0 is only
                # known once the workers listen: those sandboxes get no webhooks).
                found = await _subscribe(settings, server_url(args.host, args.port))
                providers = {
                    name: replace(p, webhook_secret=found.get(name, p.webhook_secret))
                    for name, p in settings.providers.items()
                }
                settings = replace(settings, providers=providers)

            await serve_workers(
                settings,
                host=args.host,
                port=args.port,
                workers=args.workers,
                graphiql=not args.no_graphiql,
                log_level=args.log_level,
                log_format=args.log_format or settings.log_format,
                started=lambda url: _print_started(args, url, cluster),
            )
        else:
            await _serve_one(args, settings, cluster)
    finally:
        if cluster:
            await cluster.stop()


async def _run_sync(args: argparse.Namespace, settings: Settings, opener: IndexFactory) -> int:
    """``sync``: one backfill pass over the providers (the sandbox's when asked), progress on
    stderr, a summary on stdout; exit 1 when a provider failed or the run was interrupted, or
    at once when another process holds the index's sync lease (a serving gateway syncing it:
    two syncs would list every provider twice)."""
    from gateway.index.lease import index_lease
    from gateway.providers.registry import build_adapters
    from gateway.sync import SyncRunner
    from gateway.sync.progress import Progress

    cluster: SandboxCluster | None = None
    if settings.sandbox:
        cluster = _cluster(args)
        await cluster.start("127.0.0.1", 0)
        settings = replace(settings, providers=cluster.provider_settings())
    try:
        index = await opener(settings)
        lease = index_lease(index)
        try:
            if not await lease.acquire():
                print(_LEASE_HELD.format(where=lease.where), file=sys.stderr)
                return 1
            adapters = build_adapters(settings)
            progress = Progress(sys.stderr)
            runner = SyncRunner(index, adapters, settings, listener=progress.update)
            stop = _stop_on_signals()
            watcher = asyncio.create_task(stop.wait())
            watcher.add_done_callback(lambda _: runner.stop())
            try:
                status = await runner.run_backfill()
            finally:
                watcher.cancel()
                progress.close()
                for adapter in adapters.values():
                    await adapter.aclose()
        finally:
            await lease.release()
            await index.aclose()
    finally:
        if cluster is not None:
            await cluster.stop()
    return _sync_report(status)


_LEASE_HELD = (
    "customer-gateway sync: another process is syncing this index ({where}), most likely a "
    "running serve, whose background sync does this backfill already (its /healthz shows how "
    "far); run sync again once that process has stopped, or with CUSTOMER_GATEWAY_SYNC=0 on "
    "every serving process"
)


def _sync_report(status: SyncStatus) -> int:
    """Per provider, one line: records when complete, else what stopped it (on stderr)."""
    from gateway.sync import SyncState

    unfinished = []
    for name, provider in sorted(status.providers.items()):
        if provider.state is SyncState.COMPLETE:
            print(f"{name}: {provider.records} records, complete", flush=True)
            continue
        unfinished.append(name)
        why = provider.error if provider.state is SyncState.FAILED else "interrupted"
        print(
            f"customer-gateway sync: {name} stopped after {provider.records} records: {why}; "
            "run sync again to resume",
            file=sys.stderr,
        )
    if unfinished:
        print(f"customer-gateway sync: not complete: {', '.join(unfinished)}", file=sys.stderr)
        return 1
    return 0


def _sync_settings(args: argparse.Namespace) -> Settings:
    """``sync`` lists configured providers; the sandbox only when asked for by name."""
    if args.sandbox and args.mode not in (None, "sandbox"):
        raise ConfigError(f"sync --sandbox with --mode {args.mode}: choose one")
    settings = load_settings(mode="sandbox" if args.sandbox else args.mode)
    if settings.sandbox and not (args.sandbox or args.mode == "sandbox"):
        raise ConfigError(
            "sync: no provider is configured; configure providers (see docs/configuration.md), "
            "or pass --sandbox to sync the built-in sandbox"
        )
    return settings


async def _subscribe(settings: Settings, listen_url: str) -> dict[str, str]:
    """The sandbox kept live: this gateway's webhook URL subscribed with the simulators."""
    from gateway.sandbox.subscriptions import reachable_url, subscribe_gateway

    return await subscribe_gateway(settings.providers, reachable_url(listen_url))


async def _run_check(args: argparse.Namespace) -> int:
    """``config check``: the settings ``serve`` would load; on the sandbox, its simulators are
    started on free ports and probed like real providers."""
    from gateway.auth.control import require_access_config
    from gateway.config.check import PROBE_TIMEOUT, check

    settings = load_settings(mode=args.mode)
    require_access_config(settings)  # access control: refused as serve would refuse it
    deadline = args.timeout or PROBE_TIMEOUT
    if not settings.sandbox:
        return await check(settings, sys.stdout, deadline=deadline)
    cluster = SandboxCluster.from_dataset(generate())
    await cluster.start("127.0.0.1", 0)
    try:
        on_sandbox: Settings = replace(settings, providers=cluster.provider_settings())
        return await check(on_sandbox, sys.stdout, deadline=deadline)
    finally:
        await cluster.stop()


async def _serve_one(
    args: argparse.Namespace, settings: Settings, cluster: SandboxCluster | None
) -> None:
    """One process: the gateway in this event loop, beside the sandbox (if any)."""
    from gateway.sandbox.runner import LoopbackServer
    from gateway.server import create_app
    from gateway.telemetry.exposition import metrics_app

    # The app opens the configured identity index (and runs the background sync on it).
    app = create_app(settings, graphiql=not args.no_graphiql, open_index=True, freeze_heap=True)
    server = LoopbackServer(app, host=args.host, port=args.port, drain=settings.drain_seconds)
    if cluster is not None:
        # The socket is bound (its port known) and queues connections until start().
        app.state.webhook_secrets.update(await _subscribe(settings, server.url))
    await server.start()
    metrics: LoopbackServer | None = None
    try:
        if settings.metrics_address is not None:
            # Its own address: /metrics is not for the API's clients (docs/operations.md).
            registry = app.state.telemetry.metrics.registry
            metrics = LoopbackServer(metrics_app(registry), *settings.metrics_address)
            await metrics.start()
        stop = _stop_on_signals(ignore_hup=True)
        _print_started(args, server.url, cluster, metrics.url if metrics else None)
        await stop.wait()
        logger.info(
            "stopping: requests in flight have %gs to finish (drain)", settings.drain_seconds
        )
    finally:
        if metrics is not None:
            await metrics.stop()
        await server.stop()


def _print_started(
    args: argparse.Namespace,
    url: str,
    cluster: SandboxCluster | None,
    metrics_url: str | None = None,
) -> None:
    from gateway.config.modes import SANDBOX_BANNER

    where = "the built-in sandbox" if cluster else "the configured providers"
    workers = f" ({args.workers} worker processes)" if args.workers > 1 else ""
    print(f"customer-gateway on {where}{workers}", flush=True)
    if cluster:
        print(SANDBOX_BANNER, flush=True)
        for name, sim in cluster.servers.items():
            print(f"  sandbox {name:<13} {sim.url}", flush=True)
    print(f"GraphQL endpoint: {url}/graphql", flush=True)
    if not args.no_graphiql:
        print(f"Open GraphiQL in your browser: {url}/graphql", flush=True)
    if metrics_url is not None:
        print(f"Prometheus metrics: {metrics_url}/metrics", flush=True)
    print("Ctrl-C stops.", flush=True)


def _export_schema(args: argparse.Namespace) -> None:
    from resolvers.schema import schema_sdl

    sdl = schema_sdl(args.federation_version)
    if args.output:
        args.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where installed (uvicorn[standard] brings it): less CPU per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        return asyncio.run(main)
    else:
        return uvloop.run(main)


def main(argv: Sequence[str] | None = None, *, index_factory: IndexFactory = open_index) -> int:
    """The command line; ``index_factory`` opens the identity index (tests inject theirs)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            configure_logging(args.log_level, args.log_format or "auto")
            _run(_run_sandbox(args))
        elif args.command == "serve":
            settings = load_settings(mode=args.mode)
            configure_logging(args.log_level, args.log_format or settings.log_format)
            _run(_run_serve(args, settings))
        elif args.command == "sync":
            settings = _sync_settings(args)
            configure_logging(args.log_level, args.log_format or settings.log_format)
            return _run(_run_sync(args, settings, index_factory))
        elif args.command == "config":
            return _run(_run_check(args))
        elif args.command == "migrate":
            _run(_run_migrate(args))
        else:
            _export_schema(args)
    except (ConfigError, DatasetError) as exc:
        print(f"customer-gateway: {exc}", file=sys.stderr)
        return 2
    except IndexUnavailable as exc:
        print(f"customer-gateway: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"customer-gateway: {exc.strerror or exc}", file=sys.stderr)
        if exc.errno == errno.EADDRINUSE:
            print(
                "Another process holds that port (a sandbox or gateway still running?). "
                "Stop it, or choose other ports: serve --port N --sandbox-base-port N "
                "(0 picks free ports), sandbox --base-port N.",
                file=sys.stderr,
            )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
