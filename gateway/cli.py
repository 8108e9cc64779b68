"""``customer-gateway``: run the gateway (``serve``), the sandbox alone (``sandbox``), or export
the schema (``export-schema``)."""

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
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from strawberry.federation.versions import FEDERATION_VERSIONS

from gateway.config import DEFAULT_FEDERATION_VERSION, ConfigError, load_settings
from gateway.providers.registry import PROVIDERS, SPECS
from gateway.sandbox.cluster import SandboxCluster
from gateway.sandbox.dataset import Dataset, DatasetError, generate, load_dataset

logger = logging.getLogger("customer_gateway")


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
    serve.add_argument("--log-level", default="info")
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
    _add_dataset_options(sandbox)

    export = sub.add_parser("export-schema", help="print the GraphQL SDL (or write it to a file)")
    export.add_argument("--output", type=Path)
    export.add_argument(
        "--federation-version",
        choices=tuple(FEDERATION_VERSIONS),
        default=DEFAULT_FEDERATION_VERSION,
        help=f"Apollo Federation version the SDL links (default {DEFAULT_FEDERATION_VERSION}, "
        "what schema.graphql holds)",
    )
    return parser


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run_sandbox(args: argparse.Namespace) -> None:
    keys = {name: getattr(args, f"{name}_key") for name in PROVIDERS}
    cluster = _cluster(args, keys)
    await cluster.start(args.host, args.base_port)
    try:
        print(f"customer-gateway sandbox: {len(SPECS)} provider simulators", flush=True)
        for name, server in cluster.servers.items():
            print(f"  {name:<13} {server.url:<28} key: {cluster.keys[name]}", flush=True)
        print("Admin: <url>/__sandbox/requests, <url>/__sandbox/faults. Ctrl-C stops.", flush=True)
        await _wait_for_signal()
    finally:
        await cluster.stop()


async def _run_serve(args: argparse.Namespace) -> None:
    from gateway.sandbox.runner import LoopbackServer
    from gateway.server import create_app
    from gateway.telemetry.exposition import metrics_app

    settings = load_settings()
    cluster: SandboxCluster | None = None
    if settings.sandbox:
        cluster = _cluster(args)
        await cluster.start("127.0.0.1", args.sandbox_base_port)
        settings = replace(settings, providers=cluster.provider_settings())
    app = create_app(settings, graphiql=not args.no_graphiql)
    server = LoopbackServer(app, host=args.host, port=args.port)
    await server.start()
    metrics: LoopbackServer | None = None
    try:
        if settings.metrics_address is not None:
            # Its own address: /metrics is not for the API's clients (docs/operations.md).
            registry = app.state.telemetry.metrics.registry
            metrics = LoopbackServer(metrics_app(registry), *settings.metrics_address)
            await metrics.start()
        where = "the built-in sandbox" if cluster else "the configured providers"
        print(f"customer-gateway on {where}", flush=True)
        if cluster:
            for name, sim in cluster.servers.items():
                print(f"  sandbox {name:<13} {sim.url}", flush=True)
        print(f"GraphQL endpoint: {server.url}/graphql", flush=True)
        if not args.no_graphiql:
            print(f"Open GraphiQL in your browser: {server.url}/graphql", flush=True)
        if metrics:
            print(f"Prometheus metrics: {metrics.url}/metrics", flush=True)
        print("Ctrl-C stops.", flush=True)
        await _wait_for_signal()
    finally:
        if metrics:
            await metrics.stop()
        await server.stop()
        if cluster:
            await cluster.stop()


def _export_schema(args: argparse.Namespace) -> None:
    from resolvers.schema import schema_sdl

    sdl = schema_sdl(args.federation_version)
    if args.output:
        args.output.write_text(sdl)
    else:
        sys.stdout.write(sdl)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where installed (uvicorn[standard] brings it): less CPU per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not built for every platform
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(args, "log_level", "info").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per upstream request is noise at INFO; failures surface through our own logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        if args.command == "sandbox":
            _run(_run_sandbox(args))
        elif args.command == "serve":
            _run(_run_serve(args))
        else:
            _export_schema(args)
    except (ConfigError, DatasetError) as exc:
        print(f"customer-gateway: {exc}", file=sys.stderr)
        return 2
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
