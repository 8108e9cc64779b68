"""The GraphiQL page: our own HTML over files served by the gateway, so it needs no CDN.

Every script and stylesheet is a same-origin file under :data:`STATIC_PATH` (vendored builds in
``static/``, see its README), and the page carries no inline script, so it loads offline and
under the strict :data:`CONTENT_SECURITY_POLICY` it is sent with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.graphiql.examples import EXAMPLES, Example

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/graphiql/static"
"""Where :func:`static_files` is mounted; the page's asset URLs start with it."""

STYLESHEETS = (
    "graphiql-3.9.0/graphiql.min.css",
    "plugin-explorer-3.2.6/style.css",
    "page.css",
)
SCRIPTS = (
    "react-18.2.0/react.production.min.js",
    "react-dom-18.2.0/react-dom.production.min.js",
    "graphiql-3.9.0/graphiql.min.js",
    "plugin-explorer-3.2.6/index.umd.js",
    "boot.js",
)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # Loading the page and running queries need no inline style, but GraphiQL's dialogs do:
        # a <style> element for the scroll lock (settings, shortcuts) and style attributes in
        # CodeMirror's search and jump-to-line bars. Inline style runs no script.
        "style-src 'self' 'unsafe-inline'",
        # graphiql.min.css inlines its fonts and icons as data: URLs
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""Sent with the page: nothing but this origin may run, and only its files run."""

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_TEMPLATE = Template((Path(__file__).parent / "page.html").read_text(encoding="utf-8"))


def config_json(examples: Iterable[Example]) -> str:
    """The page's settings for ``boot.js``, as the text of a JSON data block (data, not
    script, so the CSP lets it be)."""
    text = json.dumps({"tabs": [example.tab() for example in examples]})
    # "</script>" inside the block would end it early; "\u003c" is the same JSON string.
    return text.replace("<", "\\u003c")


_CONFIG = config_json(EXAMPLES)


def render_page(request: Request) -> Response:
    """The GraphiQL page for ``request`` (asset URLs honour an ASGI ``root_path``)."""
    base = request.scope.get("root_path", "").rstrip("/") + STATIC_PATH
    stylesheets = "\n    ".join(
        f'<link rel="stylesheet" href="{base}/{name}" />' for name in STYLESHEETS
    )
    scripts = "\n    ".join(f'<script src="{base}/{name}" defer></script>' for name in SCRIPTS)
    html = _TEMPLATE.substitute(
        static=base, stylesheets=stylesheets, scripts=scripts, config=_CONFIG
    )
    return HTMLResponse(html, headers={"content-security-policy": CONTENT_SECURITY_POLICY})


class _StaticFiles(StaticFiles):
    """Starlette's static files with cache headers: the vendored builds live in versioned
    directories (a new version is a new URL), so browsers keep them; our own top-level files
    change with the gateway, so browsers revalidate them (a cheap 304 by ETag)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            versioned = "/" in path.replace("\\", "/").strip("/")
            response.headers["cache-control"] = IMMUTABLE if versioned else REVALIDATE
        return response


def static_files() -> StaticFiles:
    """The ASGI app serving :data:`STATIC_DIR`; mount it at :data:`STATIC_PATH`."""
    return _StaticFiles(directory=STATIC_DIR)
