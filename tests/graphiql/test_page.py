"""The GraphiQL page: same-origin assets only, a strict CSP, example tabs that run."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.config import Settings, sandbox_settings
from gateway.graphiql import CONTENT_SECURITY_POLICY, EXAMPLE_QUERY, EXAMPLES, Example
from gateway.graphiql.page import STATIC_DIR, config_json
from gateway.sandbox.dataset import SHOWCASE_EMAIL
from gateway.server import create_app
from tests.conftest import REPO, GatewayHarness

HTML = {"accept": "text/html"}
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


class PageParser(HTMLParser):
    """The URLs a page loads (script src, link href, img src) and its script blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.blocks: dict[str, str] = {}
        self._block: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name) and tag in ("script", "link", "img", "iframe"):
                self.urls.append(str(found[name]))
        if tag == "script":
            self.scripts.append(found)
            self._block = found.get("id") or ""

    def handle_data(self, data: str) -> None:
        if self._block is not None:
            self.blocks[self._block] = self.blocks.get(self._block, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._block = None


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


async def test_the_page_loads_nothing_from_another_host(gateway: GatewayHarness) -> None:
    response = await gateway.client.get("/graphql", headers=HTML)
    page = parse(response.text)

    assert response.status_code == 200
    assert len(page.urls) == 9  # favicon, 3 stylesheets, 5 scripts
    for url in page.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/graphiql/static/"), url


async def test_every_asset_answers_with_its_content_type_and_cache_headers(
    gateway: GatewayHarness,
) -> None:
    page = parse((await gateway.client.get("/graphql", headers=HTML)).text)

    for url in page.urls:
        response = await gateway.client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].startswith(expected), url
        versioned = url.count("/") > 3  # /graphiql/static/<package>-<version>/<file>
        assert response.headers["cache-control"] == (
            "public, max-age=31536000, immutable" if versioned else "no-cache"
        ), url


async def test_the_page_has_no_inline_script_and_sends_a_strict_csp(
    gateway: GatewayHarness,
) -> None:
    response = await gateway.client.get("/graphql", headers=HTML)
    page = parse(response.text)

    inline = [script for script in page.scripts if not script.get("src")]
    assert inline == [{"id": "graphiql-config", "type": "application/json"}]
    policy = response.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe-eval" not in policy


async def test_the_first_tab_is_the_showcase_customer(gateway: GatewayHarness) -> None:
    page = parse((await gateway.client.get("/graphql", headers=HTML)).text)

    tabs = json.loads(page.blocks["graphiql-config"])["tabs"]

    assert tabs == [example.tab() for example in EXAMPLES]
    assert tabs[0] == {"query": EXAMPLE_QUERY}
    assert SHOWCASE_EMAIL in tabs[0]["query"]
    names = [re.search(r"^(?:query|mutation) (\w+)", tab["query"], re.M) for tab in tabs]
    assert [match and match.group(1) for match in names] == [
        "ShowcaseCustomer",
        "CustomersPage",
        "ByProviderId",
        "CreateCustomer",
    ]


def test_docs_api_shows_the_policy_the_page_sends() -> None:
    api = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    block = re.search(r"^## GraphiQL\n.*?```text\n(.*?)```", api, re.S | re.M)

    assert block is not None
    assert " ".join(block.group(1).split()) == CONTENT_SECURITY_POLICY


def test_the_config_block_cannot_end_the_script_element() -> None:
    hostile = Example("# </script><script>alert(1)</script>\n{ __typename }", {"x": "</SCRIPT>"})

    text = config_json([hostile])

    assert "<" not in text
    assert json.loads(text) == {"tabs": [hostile.tab()]}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.query.split("\n")[-2])
async def test_every_example_runs_on_the_sandbox(gateway: GatewayHarness, example: Example) -> None:
    tab = example.tab()
    variables: dict[str, Any] | None = json.loads(tab["variables"]) if "variables" in tab else None

    body = await gateway.query(example.query, variables)

    assert "errors" not in body, body
    assert all(body["data"].values()), body  # every lookup finds its customer
    created = body["data"].get("createCustomer")
    if created is not None:
        assert created["userErrors"] == []
        assert {outcome["status"] for outcome in created["outcomes"]} == {"APPLIED"}


async def test_without_graphiql_there_is_no_page_and_no_static_files() -> None:
    app = create_app(Settings(providers=sandbox_settings()), adapters={}, graphiql=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as client,
    ):
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get("/graphiql/static/boot.js")

    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    assert "content-security-policy" not in page.headers
    assert asset.status_code == 404


async def test_asset_urls_follow_the_root_path_behind_a_prefixing_proxy() -> None:
    app = create_app(Settings(providers=sandbox_settings()), adapters={})
    transport = httpx.ASGITransport(app=app, root_path="/gw")
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://g") as client,
    ):
        page = parse((await client.get("/graphql", headers=HTML)).text)
        assets = [await client.get(url) for url in page.urls]

    assert all(url.startswith("/gw/graphiql/static/") for url in page.urls), page.urls
    assert {asset.status_code for asset in assets} == {200}


def test_the_static_readme_lists_every_vendored_file_with_its_sha256() -> None:
    readme = (STATIC_DIR / "README.md").read_text(encoding="utf-8")
    listed = dict(
        re.findall(r"^\| `([^`]+)` \| `[^`]+` \| `[^`]+` \| `([0-9a-f]{64})` \|$", readme, re.M)
    )
    vendored = {
        path.relative_to(STATIC_DIR).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in STATIC_DIR.glob("*/*")
    }

    assert listed == vendored
    for directory in {path.parent for path in STATIC_DIR.glob("*/*")}:
        assert (directory / "LICENSE").is_file(), directory


def test_the_page_and_its_files_are_package_data() -> None:
    """Every file the page needs is matched by a package-data glob, so wheels carry it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["gateway.graphiql"]
    package = STATIC_DIR.parent
    shipped = {path for pattern in globs for path in package.glob(pattern) if path.is_file()}

    needed = {package / "page.html"} | {p for p in STATIC_DIR.rglob("*") if p.is_file()}

    assert needed <= shipped
