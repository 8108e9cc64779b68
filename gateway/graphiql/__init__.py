"""GraphiQL served by the gateway itself: same-origin files, no CDN, a strict CSP."""

from gateway.graphiql.examples import EXAMPLE_QUERY, EXAMPLES, Example
from gateway.graphiql.page import (
    CONTENT_SECURITY_POLICY,
    STATIC_PATH,
    render_page,
    static_files,
)

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EXAMPLES",
    "EXAMPLE_QUERY",
    "STATIC_PATH",
    "Example",
    "render_page",
    "static_files",
]
