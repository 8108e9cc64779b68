"""The pieces :class:`~gateway.providers.http.ProviderHTTP` is assembled from, one job each.

:mod:`.request` is what one logical call sends, :mod:`.wire` carries one attempt and reads its
:class:`~.wire.Answer` (:mod:`.aiohttp_wire` in production, any httpx transport in tests),
:mod:`.classify` turns answers and transport failures into error kinds (and says which ones
count against a provider), :mod:`.retry_after` reads how long a provider asks us to wait,
:mod:`.retry` decides whether and when to try again and :mod:`.error_body` reads providers'
error bodies. ``gateway.providers.http`` orchestrates.
"""
