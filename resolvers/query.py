"""Root ``Query``: one customer by any key, or a Relay-style page of customers."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from gateway.core import lookups
from gateway.core.loaders import fresh_reads
from gateway.core.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, customers_page
from gateway.model import Lookup
from resolvers.context import Info
from resolvers.customer import Customer
from resolvers.scalars import Provider


@strawberry.enum(description="Kinds of id that link records across providers.")
class LinkedIdKind(enum.Enum):
    STRIPE_ID = "stripe_id"
    EXTERNAL_ID = "external_id"


@strawberry.type(description="Relay page info. Backward pagination is not supported.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Always false: the gateway pages forward only (no `last`/`before`)."
    )
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class CustomerEdge:
    cursor: str
    node: Customer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]
    page_info: PageInfo

    @strawberry.field(description="The edges' nodes, for clients that don't need cursors.")
    def nodes(self) -> list[Customer]:
        return [edge.node for edge in self.edges]


@strawberry.input(description="Narrows `customers`.")
class CustomerFilter:
    email: str | None = strawberry.field(
        default=None,
        description="Only the customer(s) holding this email (trimmed, case-insensitive); "
        "answers in one page.",
    )


Fresh = Annotated[
    bool,
    strawberry.argument(
        description="Read every record from the providers, not from the gateway's record "
        "cache (what is fetched still refreshes the cache). Only matters for providers with "
        "a cache TTL configured."
    ),
]


@strawberry.type
class Query:
    @strawberry.field(description="A customer by its gateway id.")
    async def customer(
        self, info: Info, id: strawberry.ID, fresh: Fresh = False
    ) -> Customer | None:
        with fresh_reads(fresh):
            return Customer.maybe(await lookups.customer_by_id(info.context, str(id)))

    @strawberry.field(description="The customer holding this email (trimmed, case-insensitive).")
    async def customer_by_email(
        self, info: Info, email: str, fresh: Fresh = False
    ) -> Customer | None:
        with fresh_reads(fresh):
            return Customer.maybe(await lookups.customer_by_email(info.context, email))

    @strawberry.field(
        description="The customer holding this provider record (the provider's own id: a Stripe "
        "`cus_` id, a ChartMogul uuid, a FirstOfficer id, a Lago external id, a Tofupay id)."
    )
    async def customer_by_provider_id(
        self, info: Info, provider: Provider, id: str, fresh: Fresh = False
    ) -> Customer | None:
        with fresh_reads(fresh):
            found = await lookups.customer_by_provider_id(info.context, provider.value, id)
        return Customer.maybe(found)

    @strawberry.field(
        description="The customer linked to an id held across providers: a Stripe customer id "
        "(STRIPE_ID) or the company's own id (EXTERNAL_ID: Lago external_id, Stripe metadata, "
        "FirstOfficer extra_id)."
    )
    async def customer_by_linked_id(
        self, info: Info, kind: LinkedIdKind, value: str, fresh: Fresh = False
    ) -> Customer | None:
        with fresh_reads(fresh):
            found = await lookups.customer_by_linked_id(info.context, Lookup(kind.value), value)
        return Customer.maybe(found)

    @strawberry.field(
        description=(
            f"Customers of the primary provider (default Stripe), newest first as it lists "
            f"them, each merged with every other provider. `first` defaults to "
            f"{DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}. Forward pagination only."
        )
    )
    async def customers(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: CustomerFilter | None = None,
        fresh: Fresh = False,
    ) -> CustomerConnection | None:
        with fresh_reads(fresh):
            return await _customers(info, first, after, filter)


async def _customers(
    info: Info, first: int, after: str | None, filter: CustomerFilter | None
) -> CustomerConnection | None:
    """A page of customers, or the one holding ``filter.email`` (as one page)."""
    if filter is not None and filter.email is not None:
        found = Customer.maybe(await lookups.customer_by_email(info.context, filter.email))
        edges = [CustomerEdge(cursor=str(found.id), node=found)] if found else []
        return CustomerConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=False,
                has_previous_page=False,
                start_cursor=None,
                end_cursor=None,
            ),
        )
    page = await customers_page(info.context, first, after)
    edges = [
        CustomerEdge(cursor=cursor, node=Customer.of(found))
        for cursor, found in zip(page.cursors, page.customers, strict=True)
    ]
    return CustomerConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.next_cursor is not None,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.next_cursor
            if page.next_cursor
            else (edges[-1].cursor if edges else None),
        ),
    )
