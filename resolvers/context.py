"""What resolvers receive: the core's per-request context, typed for Strawberry."""

from __future__ import annotations

import strawberry

from gateway.core.context import RequestContext

Info = strawberry.Info[RequestContext, None]

__all__ = ["Info", "RequestContext"]
