"""GraphiQL in a real browser (Debian's Chromium, headless) that can reach no host but the
gateway's: the page must start from the gateway's own files, under its own CSP."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from starlette.types import ASGIApp

from gateway.config import Settings, sandbox_settings
from gateway.server import create_app
from tests.conftest import skip_or_fail

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    # No other host is reachable: names don't resolve and anything else goes to a dead proxy
    # (Chromium never proxies loopback).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    # Console messages (CSP violations, script errors, failed loads) go to stderr.
    "--enable-logging=stderr",
    "--v=1",
    # Run the page's timers and loads, then print the DOM; virtual time, not a wait.
    "--virtual-time-budget=15000",
    "--dump-dom",
)


class TextOf(HTMLParser):
    """The text inside each element whose class list contains ``name``."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found: list[str] = []
        self._depth = 0  # > 0 inside a matching element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if self._depth:
            self._depth += 1
        elif self.name in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.found.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag not in VOID:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.found[-1] += data


def text_of(html: str, name: str) -> list[str]:
    parser = TextOf(name)
    parser.feed(html)
    return parser.found


def test_graphiql_starts_offline_under_its_csp(
    live_server: Callable[[ASGIApp], str], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        skip_or_fail("chromium is not installed (apt-get install -y chromium)")
    app = create_app(Settings(providers=sandbox_settings()), adapters={})
    url = live_server(app) + "/graphql"

    run = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", url],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert run.returncode == 0, run.stderr[-2000:]
    assert console == [], "\n".join(console)
    assert text_of(run.stdout, "graphiql-tab-button") == [
        "ShowcaseCustomer",
        "CustomersPage",
        "ByProviderId",
        "CreateCustomer",
    ], run.stdout[-2000:]
    (editor,) = text_of(run.stdout, "graphiql-query-editor")
    assert "query ShowcaseCustomer {" in editor
    assert 'customerByEmail(email: "ada@lovelace.example")' in editor
