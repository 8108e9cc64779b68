"""The operations GraphiQL opens with, one tab each: the first tour of the API (README's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Example:
    """One GraphiQL tab: an operation and the variables it runs with."""

    query: str
    variables: dict[str, Any] | None = None

    def tab(self) -> dict[str, str]:
        """GraphiQL's ``defaultTabs`` entry (variables are JSON text in the editor)."""
        tab = {"query": self.query}
        if self.variables is not None:
            tab["variables"] = json.dumps(self.variables, indent=2)
        return tab


EXAMPLE_QUERY = """\
# customer-gateway: one Customer across Stripe, ChartMogul, FirstOfficer, Lago and Tofupay.
# Press the play button (Ctrl-Enter) to see a customer merged from all five sandbox providers.
# The other tabs hold a page of customers, lookups by provider id and a write.
query ShowcaseCustomer {
  customerByEmail(email: "ada@lovelace.example") {
    id
    name
    email
    emails
    company
    currency
    createdAt
    metrics {
      mrr { amount currency }
      currentMrr { amount currency }
      balance { amount currency }
    }
    fieldSources { field provider recordId }
    identity {
      edges { rule namespace value left { provider id } right { provider id } }
      conflicts { kind field message values }
    }
    stripe { id email name }
    chartmogul { uuid externalId mrr { amount currency } }
    firstOfficer { id stripeId currentSubscriptionCount }
    lago { externalId providerCustomerId }
    tofupay { id email }
  }
}
"""

CUSTOMERS_PAGE = """\
# A page of customers, enumerated from the primary provider (Stripe) and merged with the rest.
# For the next page, set "after" to the answer's pageInfo.endCursor.
query CustomersPage($first: Int, $after: String) {
  customers(first: $first, after: $after) {
    edges { cursor node { id name email externalIds { provider id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

BY_PROVIDER_ID = """\
# Any provider's id finds the same customer (and the same gateway id).
query ByProviderId {
  byLago: customerByProviderId(provider: LAGO, id: "co_analyticalengines") { id name }
  byStripeLink: customerByLinkedId(kind: STRIPE_ID, value: "cus_ShowcaseAda001") { id name }
}
"""

CREATE_CUSTOMER = """\
# A write to every provider that should hold the customer, linked so they merge, with one
# outcome per provider; the idempotency key makes a repeat replay the first answer.
mutation CreateCustomer($input: CustomerInput!, $providers: [Provider!], $key: String) {
  createCustomer(input: $input, providers: $providers, idempotencyKey: $key) {
    userErrors { field message code }
    outcomes { provider status recordId reason code message skippedFields }
    customer { id name externalIds { provider id } }
  }
}
"""

EXAMPLES: tuple[Example, ...] = (
    Example(EXAMPLE_QUERY),
    Example(CUSTOMERS_PAGE, {"first": 5, "after": None}),
    Example(BY_PROVIDER_ID),
    Example(
        CREATE_CUSTOMER,
        {
            "input": {
                "email": "mary@somerville.example",
                "name": "Mary Somerville",
                "externalId": "co_connexion",
            },
            "providers": ["STRIPE", "LAGO"],
            "key": "signup-7f3c",
        },
    ),
)
"""The tabs of a first visit, the showcase customer first (GraphiQL remembers later edits)."""
