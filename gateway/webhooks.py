"""``POST /webhooks/{provider}``: providers' signed customer webhooks, verified, then handed on.

Webhooks are authenticated by their signature, not by the gateway's API keys or JWTs (a
provider has neither): this route sits outside the GraphQL view's access control, and nothing
in a body is used before its signature checks out. Answers, all JSON:

- 404 ``not_found``: the provider is unknown, off, sends no webhooks, or has no webhook secret
  (``<PROVIDER>_WEBHOOK_SECRET``, or the secret ``serve`` keeps on the sandbox);
- 413 ``request_too_large``: the body is over ``CUSTOMER_GATEWAY_MAX_BODY_BYTES``;
- 400 ``webhook_rejected`` with the ``reason`` (bad or missing signature, a timestamp outside
  the replay window, a malformed body); nothing is applied;
- 200 ``{"received": n}``: the ``n`` verified customer changes (0 for other events, which are
  acknowledged so the provider stops sending them) went to ``app.state.change_sink``;
- 202 ``{"received": n, "dropped": true}`` when no sink is set: the delivery is acknowledged
  (a provider retrying it would not help) and logged as dropped;
- 500 ``sink_failed`` when the sink raised: the provider redelivers later.

The secret never appears in an answer or a log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config import Settings
from gateway.providers.contract import ChangeSink
from gateway.providers.registry import BY_NAME
from gateway.providers.webhooks import WebhookRejected, load_scheme
from gateway.request_guard import RequestLimits

__all__ = ["PATH", "configured_secrets", "route"]

logger = logging.getLogger("customer_gateway.webhooks")

PATH: Final = "/webhooks/{provider}"


def configured_secrets(settings: Settings) -> dict[str, str]:
    """Each enabled provider's webhook secret, where it has webhooks and a secret."""
    return {
        p.name: p.webhook_secret
        for p in settings.enabled()
        if p.webhook_secret and p.name in BY_NAME and BY_NAME[p.name].webhook is not None
    }


def _answer(status: int, code: str, message: str, **extra: Any) -> Response:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it is over ``limit`` bytes (declared or counted)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive(request: Request) -> Response:
    provider: str = request.path_params["provider"]
    state = request.app.state
    secrets: Mapping[str, str] = state.webhook_secrets
    spec = BY_NAME.get(provider)
    scheme = load_scheme(spec) if spec is not None else None
    secret = secrets.get(provider)
    if spec is None or scheme is None or not secret:
        return _answer(404, "not_found", f"no webhooks are received for {provider!r}")
    limit = RequestLimits.for_scope(request.scope).max_body_bytes
    body = await _body(request, limit)
    if body is None:
        return _answer(413, "request_too_large", f"the body is over {limit} bytes")
    try:
        events = scheme.verify(body, request.headers, secret, time.time())
    except WebhookRejected as exc:
        logger.warning("%s webhook rejected: %s", spec.label, exc.reason)
        return _answer(400, "webhook_rejected", "the webhook was refused", reason=exc.reason)
    sink: ChangeSink | None = getattr(state, "change_sink", None)
    if sink is None:
        if events:
            logger.warning(
                "%s webhook with %d customer change(s) dropped: no change sink is configured",
                spec.label,
                len(events),
            )
        return JSONResponse({"received": len(events), "dropped": True}, status_code=202)
    if events:
        try:
            await sink(events)
        except Exception:
            logger.exception("%s webhook: applying %d change(s) failed", spec.label, len(events))
            return _answer(500, "sink_failed", "the changes could not be applied; redeliver")
    logger.info("%s webhook: %d customer change(s) received", spec.label, len(events))
    return JSONResponse({"received": len(events)})


def route() -> Route:
    return Route(PATH, receive, methods=["POST"])
