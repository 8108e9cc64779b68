"""Client CPU per upstream call: the production wire (H1Wire) alone, raw aiohttp, httpx on each
transport, and ProviderHTTP on the production wire and on the httpx-aiohttp transport it used
before.

A tiny JSON endpoint runs in a child process on 127.0.0.1; this process makes sequential GETs
through each client and prints its own CPU time per call. It explains where the gateway's
per-call cost goes (see docs/benchmarks.md); it asserts nothing.

    python benchmarks/client_overhead.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.config import ProviderSettings
from gateway.providers.http import ProviderHTTP, json_error_parser
from gateway.providers.upstream.h1_wire import H1Wire
from gateway.providers.upstream.wire import Timeouts

SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def customer(request):
    return JSONResponse({"id": request.path_params["id"], "object": "customer", "email": "a@b.c"})

app = Starlette(routes=[Route("/v1/customers/{id}", customer)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""
PATH = "/v1/customers/cus_1"


async def per_call_cpu(call: Callable[[], Awaitable[object]], calls: int) -> float:
    """Microseconds of this process's CPU per call, after a warm-up."""
    for _ in range(50):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) * 1e6 / calls


async def measure(base: str, calls: int) -> None:
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    print(f"| client | CPU per call ({calls} sequential GETs) |\n|---|---|")

    wire = H1Wire(8)
    timeouts = Timeouts(connect=5.0, read=5.0, pool=5.0)
    headers = {"Accept": "application/json"}

    async def production() -> object:
        return (await wire.send("GET", base + PATH, headers, None, timeouts)).json()

    print(f"| H1Wire (production's wire) alone | {await per_call_cpu(production, calls):.0f} µs |")
    await wire.aclose()

    async with aiohttp.ClientSession() as session:

        async def raw() -> object:
            async with session.get(base + PATH) as response:
                return await response.json()

        print(f"| aiohttp | {await per_call_cpu(raw, calls):.0f} µs |")

    for name, transport in (
        ("httpx on aiohttp's pool (httpx-aiohttp)", AiohttpTransport(limits=limits)),
        ("httpx on httpcore (httpx's default)", None),
    ):
        async with httpx.AsyncClient(base_url=base, limits=limits, transport=transport) as client:

            async def plain(client: httpx.AsyncClient = client) -> object:
                return (await client.get(PATH)).json()

            print(f"| {name} | {await per_call_cpu(plain, calls):.0f} µs |")

    settings = ProviderSettings(name="stripe", base_url=base, api_key="sk_test_benchmark")
    for name, transport in (
        ("H1Wire, production's wire", None),
        ("httpx models on httpx-aiohttp, the wire before", AiohttpTransport(limits=limits)),
    ):
        http = ProviderHTTP(
            settings,
            auth_headers={"Authorization": f"Bearer {settings.api_key}"},
            error_parser=json_error_parser(("error", "message")),
            transport=transport,
        )
        try:
            cost = await per_call_cpu(partial(http.request, "GET", PATH), calls)
            print(f"| ProviderHTTP (breaker, limits, deadline, errors) on {name} | {cost:.0f} µs |")
        finally:
            await http.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--port", type=int, default=26001)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.port)])
    try:
        base = f"http://127.0.0.1:{args.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(base + PATH, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the test endpoint did not start") from None
                time.sleep(0.1)
        asyncio.run(measure(base, args.calls))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
