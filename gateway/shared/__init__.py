"""State the gateway's replicas share on Redis (``CUSTOMER_GATEWAY_REDIS_URL``).

One module per job: :mod:`~gateway.shared.link` (the connection, up/down, metrics),
:mod:`~gateway.shared.codec` (JSON, never pickle), :mod:`~gateway.shared.cache` (the record
cache's second level), :mod:`~gateway.shared.events` (pub/sub: invalidations and circuit news),
:mod:`~gateway.shared.idempotency` (one write per key across replicas),
:mod:`~gateway.shared.rate_limit` (one budget per provider), :mod:`~gateway.shared.circuits`
(openings and cool-downs) and :mod:`~gateway.shared.state` (wiring them into an app).
Without Redis, or while it is down, each piece has an in-process fallback (docs/deployment.md).
"""

from gateway.shared.state import SharedState

__all__ = ["SharedState"]
