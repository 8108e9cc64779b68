"""Tofupay: spec, adapter, simulator and GraphQL record type."""

from gateway.providers.tofupay.adapter import TofupayAdapter
from gateway.providers.tofupay.spec import SPEC

__all__ = ["SPEC", "TofupayAdapter"]
