"""The pieces :class:`~gateway.providers.http.ProviderHTTP` is assembled from, one job each.

:mod:`.request` is what one logical call sends, :mod:`.wire` carries one attempt and reads its
:class:`~.wire.Answer` (:mod:`.h1_wire` in production, over :mod:`.h1_connection`; any httpx
transport in tests),
:mod:`.classify` turns answers and transport failures into error kinds (and says which ones
count against a provider), :mod:`.retry_after` reads how long a provider asks us to wait,
:mod:`.retry` decides whether and when to try again, :mod:`.error_body` reads providers'
error bodies, :mod:`.answers` turns an answer into a body or an error, and :mod:`.gate` refuses
calls while a provider cools down or its circuit is open and gives the breaker each call's
verdict, :mod:`.redact` keeps secrets out of messages, and :mod:`.counting` counts the calls a
block of work sends. ``gateway.providers.http`` orchestrates.
"""
