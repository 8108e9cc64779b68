"""Lago API v1 simulator: the customer endpoints, with Lago's upsert, paging and error shapes.

``POST /api/v1/customers`` creates or updates by ``external_id`` (Lago's upsert), every path
names a customer by its ``external_id``, lists page by number with a ``meta`` block, and errors
come as ``{"status", "error", "code"?, "error_details"?}``.

Modules: :mod:`.shape` (the stored customer and its rendering), :mod:`.input` (the rules a
payload's values follow), :mod:`.codes` (the currencies, countries and timezones Lago's OpenAPI
document accepts), :mod:`.seed` (dataset records checked by those rules), :mod:`.store`
(customers, list order, search; on ``app.state.store``), :mod:`.http` (routes, errors, auth,
rate limit headers), :mod:`.errors` (error bodies).
"""

from gateway.providers.lago.simulator.http import SANDBOX_KEY, create_app
from gateway.providers.lago.simulator.seed import seed_record
from gateway.providers.lago.simulator.store import CustomerStore

__all__ = ["SANDBOX_KEY", "CustomerStore", "create_app", "seed_record"]
