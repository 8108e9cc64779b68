"""ChartMogul API v1 customers simulator: the wire protocol the official SDKs speak.

Facts come from /work/shared/reference/providers.md §2, the seed document and the recorded real
responses in chartmogul-ruby's VCR cassettes. Where no source shows the real answer the choice is
marked "inferred" in the handler's docstring.

- Auth: HTTP Basic, the API key as username, password empty or the key. Anything else is a 401
  ``{"code":401,"message":"No valid API key provided"}``.
- Errors: ``{"code","message","param"?}`` for request and lookup errors, ``{"errors":{field:
  message}}`` with 422 for validation (see :mod:`.errors`).
- Lists: ``{"entries","has_more","cursor"}`` plus the deprecated ``per_page``, ``page``,
  ``current_page`` and ``total_pages``; the cursor is opaque (base64 of the last id), entries are
  ordered by id.

Modules: :mod:`.shape` (the customer object, its defaults and value rules), :mod:`.store`
(customers, data sources, indexes, cursor pages; on ``app.state.store``), :mod:`.http` (routes,
error answers, auth), :mod:`.errors` (the error bodies as exceptions).
"""

from gateway.providers.chartmogul.simulator.http import SANDBOX_KEY, create_app
from gateway.providers.chartmogul.simulator.shape import DEFAULT_DATA_SOURCE_UUID, seed_record
from gateway.providers.chartmogul.simulator.store import CustomerStore

__all__ = ["DEFAULT_DATA_SOURCE_UUID", "SANDBOX_KEY", "CustomerStore", "create_app", "seed_record"]
