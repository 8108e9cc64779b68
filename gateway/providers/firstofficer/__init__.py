"""FirstOfficer: spec, adapter, simulator and GraphQL record type."""

from gateway.providers.firstofficer.adapter import FirstOfficerAdapter
from gateway.providers.firstofficer.spec import SPEC

__all__ = ["SPEC", "FirstOfficerAdapter"]
