"""FirstOfficer API v2 simulator: the customer endpoints under ``/v2``.

Follows apidocs.firstofficer.io (see /work/shared/seeds/000 and providers.md §4):

- Auth: ``Authorization: Token token="KEY"`` or HTTP Basic with the key as the username.
- Requests are form-encoded, responses JSON; errors are
  ``{"error":{"type":"invalid_request_error","message":…,"param"?:…}}``.
- ``GET /v2/customers/<id>`` resolves ``<id>`` by its shape: digits -> FirstOfficer id,
  ``cus_…`` -> Stripe id, contains ``@`` -> email (trimmed, case-insensitive), else extra_id.
- ``PUT /v2/customers/<id>`` changes ``extra_id``/``email``/``name``; omitted params stay, an
  empty ``extra_id`` (or ``name``) clears it.
- ``POST /v2/customers`` needs a unique ``email``. It also takes ``stripe_id``: the real API
  learns that link from Stripe, the sandbox accepts it so tests can link records.
- ``GET /v2/customers`` pages by ``limit`` (clamped to 1-100, default 10) and
  ``starting_after``; the docs say it never errors, so bad values are clamped, not rejected.
- There is no DELETE: the router answers 405 in the error shape above.

Modules: :mod:`.shape` (the customer object and its value rules), :mod:`.store` (customers,
lookups, pages; on ``app.state.store``), :mod:`.http` (routes, errors, auth).
"""

from gateway.providers.firstofficer.simulator.http import SANDBOX_KEY, create_app
from gateway.providers.firstofficer.simulator.shape import seed_record
from gateway.providers.firstofficer.simulator.store import FIRST_ID, CustomerStore

__all__ = ["FIRST_ID", "SANDBOX_KEY", "CustomerStore", "create_app", "seed_record"]
