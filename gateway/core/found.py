"""What a lookup returns: one merged customer as this request found it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gateway.errors import ProviderError
from gateway.identity import MergedCustomer, encode_customer_id

__all__ = ["FoundCustomer"]


@dataclass(frozen=True, slots=True)
class FoundCustomer:
    """One merged customer as this request found it, with the providers that failed meanwhile."""

    merged: MergedCustomer
    errors: Mapping[str, ProviderError] = field(default_factory=dict)
    """Providers that failed while this customer was collected: their fields are unknown."""
    truncated: bool = False
    """An expansion bound (hops, records) stopped the search early."""
    customer_id: str | None = None
    """The stable id the identity index keeps for this customer."""
    synced_at: datetime | None = None
    """When the index last recomputed or confirmed who this customer is."""
    aliases: tuple[str, ...] = ()
    """Ids of customers merged into this one (they still find it)."""

    @property
    def id(self) -> str:
        """The public customer id: the index's, else (no index) derived from the anchor."""
        return self.customer_id or encode_customer_id(self.merged.anchor)
