"""Prometheus metrics and OpenTelemetry traces for the gateway (docs/operations.md).

Design, in one place:

- **One** :class:`~gateway.telemetry.app.Telemetry` **per app.** It holds the app's own
  ``prometheus_client.CollectorRegistry`` (never the process-global one, so tests and several
  apps in one process never collide) and a tracer (a no-op one unless tracing is configured).
- **Upstream calls** are reported by :class:`~gateway.providers.http.ProviderHTTP` to the
  :class:`~gateway.telemetry.upstream.UpstreamTelemetry` it was built with (injected through the
  adapter; :data:`~gateway.telemetry.upstream.NO_TELEMETRY` records nothing). What kind of call
  it is (a lookup by email, a list, a create...) comes from a context variable the adapter sets
  (:mod:`gateway.telemetry.labels`): labels are bounded names, never paths or ids.
- **GraphQL operations** are measured by an ASGI middleware around the GraphQL endpoint
  (:mod:`gateway.telemetry.operations`), told the operation's name, type and outcome by a
  Strawberry schema extension that also opens the operation's span.

This package imports nothing from :mod:`gateway.providers` at module level except in
:mod:`~gateway.telemetry.operations`, so the HTTP client can import it.
"""
