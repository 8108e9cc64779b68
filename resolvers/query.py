"""Root ``Query``: one customer by any key, or a Relay-style page of customers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import pycountry
import strawberry

from gateway.core import by_id, lookups
from gateway.core.loaders import fresh_reads
from gateway.core.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, customers_page
from gateway.errors import ErrorCode, InvalidInput
from gateway.identity import normalise_email
from gateway.index import contract as pages
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


@strawberry.input(
    description="Narrows `customers`; every criterion given must hold. Criteria other than "
    "`email` alone are answered from the identity index (error NOT_SYNCED until every "
    "provider is synced into it)."
)
class CustomerFilter:
    email: str | None = strawberry.field(
        default=None,
        description="Only the customer(s) holding this email (trimmed, case-insensitive); "
        "alone, it answers in one page.",
    )
    text: str | None = strawberry.field(
        default=None, description="Case-insensitive part of the customer's name or company."
    )
    providers: list[Provider] | None = strawberry.field(
        default=None, description="Customers with a record in every one of these providers."
    )
    without_providers: list[Provider] | None = strawberry.field(
        default=None, description="Customers with no record in any of these providers."
    )
    country: str | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 country code of the customer's address."
    )
    status: str | None = strawberry.field(
        default=None, description="The customer's status (as `Customer.status` shows it)."
    )
    created_from: datetime | None = strawberry.field(
        default=None, description="Created at or after this time (the earliest record's)."
    )
    created_to: datetime | None = strawberry.field(
        default=None, description="Created before this time."
    )
    mrr_min: int | None = strawberry.field(
        default=None, description="MRR at least this, in minor units (cents)."
    )
    mrr_max: int | None = strawberry.field(
        default=None, description="MRR at most this, in minor units (cents)."
    )

    def only_email(self) -> bool:
        return self.email is not None and all(
            getattr(self, name) is None for name in _CRITERIA if name != "email"
        )


_CRITERIA = (
    "email",
    "text",
    "providers",
    "without_providers",
    "country",
    "status",
    "created_from",
    "created_to",
    "mrr_min",
    "mrr_max",
)


@strawberry.enum(description="What `customers` is ordered by.")
class CustomerOrderField(enum.Enum):
    CREATED = "created"
    NAME = "name"
    MRR = "mrr"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="The order of `customers` (answered from the identity index).")
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.CREATED
    direction: OrderDirection = OrderDirection.DESC


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
            return Customer.maybe(await by_id.customer_by_id(info.context, str(id)))

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
        order_by: CustomerOrder | None = None,
        fresh: Fresh = False,
    ) -> CustomerConnection | None:
        with fresh_reads(fresh):
            return await _customers(info, first, after, filter, order_by)


async def _customers(
    info: Info,
    first: int,
    after: str | None,
    filter: CustomerFilter | None,
    order_by: CustomerOrder | None,
) -> CustomerConnection | None:
    """A page of customers, or the one holding ``filter.email`` (as one page)."""
    if filter is not None and filter.email is not None and filter.only_email() and not order_by:
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
    page = await customers_page(
        info.context,
        first,
        after,
        filter=_domain_filter(filter, info) if filter is not None else None,
        order=_domain_order(order_by) if order_by is not None else None,
    )
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


def _domain_filter(given: CustomerFilter, info: Info) -> pages.CustomerFilter:
    """The input as the core's filter, values checked and normalised."""
    email = None
    if given.email is not None:
        email = normalise_email(given.email, info.context.settings.identity.placeholder_emails)
        if email is None:
            raise InvalidInput(f"{given.email!r} is not an email", path=("filter", "email"))
    country = given.country.strip().upper() if given.country is not None else None
    if country is not None and pycountry.countries.get(alpha_2=country) is None:
        raise InvalidInput(
            f"{given.country!r} is not an ISO 3166-1 alpha-2 country code",
            ErrorCode.INVALID_COUNTRY,
            path=("filter", "country"),
        )
    return pages.CustomerFilter(
        email=email,
        text=given.text.strip() or None if given.text is not None else None,
        providers=_providers(given.providers),
        without_providers=_providers(given.without_providers),
        country=country,
        status=given.status.strip().lower() or None if given.status is not None else None,
        created_from=given.created_from,
        created_to=given.created_to,
        mrr_min=given.mrr_min,
        mrr_max=given.mrr_max,
    )


def _providers(given: list[Provider] | None) -> frozenset[str] | None:
    return None if given is None else frozenset(p.value for p in given)


def _domain_order(given: CustomerOrder) -> pages.CustomerOrder:
    return pages.CustomerOrder(
        pages.OrderField(given.field.value), descending=given.direction is OrderDirection.DESC
    )
