"""Acme CRM: a sixth provider, added by the tests exactly as the README says a user would."""

from gateway.providers.acme.adapter import AcmeAdapter
from gateway.providers.acme.spec import SPEC

__all__ = ["SPEC", "AcmeAdapter"]
