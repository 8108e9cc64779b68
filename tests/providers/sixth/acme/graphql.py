"""Acme's record type in the GraphQL API (``Customer.acme``)."""

from __future__ import annotations

import strawberry
from gateway.providers.acme.adapter import AcmeDetails

from gateway.providers import graphql as g


@strawberry.type(description="An Acme CRM contact.")
class AcmeCustomer(g.ProviderRecord):
    plan: str | None = g.detail(AcmeDetails, lambda d: d.plan, str | None)
