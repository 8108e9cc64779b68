"""Stripe's ``Idempotency-Key`` store: the first response to a POST, replayed for 24 hours."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_TTL = 24 * 3600.0
"""Stripe may prune keys after 24 hours; the simulator does exactly that."""


@dataclass(frozen=True, slots=True)
class SavedResponse:
    endpoint: str
    fingerprint: str
    status: int
    body: JSON
    at: float
    request_id: str
    """The ``Request-Id`` of the first response; a replay names it in ``Original-Request``."""


class IdempotencyStore:
    """First responses to POSTs by ``Idempotency-Key``, replayed for 24 hours."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._saved: dict[str, SavedResponse] = {}

    def get(self, key: str) -> SavedResponse | None:
        self._prune()
        return self._saved.get(key)

    def save(
        self,
        key: str,
        endpoint: str,
        fingerprint: str,
        status: int,
        body: JSON,
        request_id: str,
    ) -> None:
        self._saved[key] = SavedResponse(
            endpoint, fingerprint, status, body, self.clock(), request_id
        )

    def _prune(self) -> None:
        cutoff = self.clock() - IDEMPOTENCY_TTL
        for key in [k for k, v in self._saved.items() if v.at < cutoff]:
            del self._saved[key]


def fingerprint(params: Mapping[str, Any]) -> str:
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
