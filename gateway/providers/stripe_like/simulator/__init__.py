"""What the Stripe and Tofupay simulators share: Stripe's wire conventions for customers.

Both APIs speak form-encoded bodies with bracket keys, the ``{"error": {...}}`` error shape,
``Idempotency-Key`` replay on POSTs, cursor lists (``limit``, ``starting_after``,
``ending_before``) and the same customer routes. A provider supplies a
:class:`~.shape.CustomerShape` (its object, parameters and seed fields) and
:func:`~.http.customer_app` builds the app. Modules: :mod:`.errors` (error shape),
:mod:`.params` (form decoding, shared value checks, seeds as params), :mod:`.store` (records
and indexes), :mod:`.paging`, :mod:`.idempotency`, :mod:`.shape`, :mod:`.http` (routes, auth,
headers, state).
"""

from gateway.providers.stripe_like.simulator.errors import (
    JSON,
    ApiError,
    ErrorStyle,
    missing_customer,
    missing_parameter,
    unknown_parameter,
)
from gateway.providers.stripe_like.simulator.http import (
    CustomerApi,
    customer_api,
    customer_app,
    guard,
    mask_key,
)
from gateway.providers.stripe_like.simulator.idempotency import IdempotencyStore
from gateway.providers.stripe_like.simulator.paging import paginate
from gateway.providers.stripe_like.simulator.params import (
    Kind,
    check_known,
    created_bounds,
    email_param,
    int_param,
    merge_metadata,
    parse_limit,
    query_params,
    string_param,
)
from gateway.providers.stripe_like.simulator.shape import CustomerShape
from gateway.providers.stripe_like.simulator.store import (
    CustomerStore,
    StoredCustomer,
    generate_id,
)

__all__ = [
    "JSON",
    "ApiError",
    "CustomerApi",
    "CustomerShape",
    "CustomerStore",
    "ErrorStyle",
    "IdempotencyStore",
    "Kind",
    "StoredCustomer",
    "check_known",
    "created_bounds",
    "customer_api",
    "customer_app",
    "email_param",
    "generate_id",
    "guard",
    "int_param",
    "mask_key",
    "merge_metadata",
    "missing_customer",
    "missing_parameter",
    "paginate",
    "parse_limit",
    "query_params",
    "string_param",
    "unknown_parameter",
]
