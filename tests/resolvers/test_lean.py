"""Plain method resolvers run without Strawberry's per-field wrapping, and only those."""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType
from strawberry.permission import BasePermission
from strawberry.types import Info

from resolvers.lean import _calling, use_lean_resolvers
from resolvers.schema import build_schema


class Nobody(BasePermission):
    message = "nobody"

    def has_permission(self, source: object, info: Info, **kwargs: object) -> bool:
        return False


@strawberry.type
class Thing:
    label: str = "plain attribute"

    @strawberry.field
    def upper(self) -> str:
        return self.label.upper()

    @strawberry.field
    async def later(self) -> str:
        return self.label

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("the resolver's own failure")

    @strawberry.field
    def times(self, n: int) -> str:
        return self.label * n

    @strawberry.field
    def asks(self, info: Info) -> str:
        return type(info).__name__

    @strawberry.field(permission_classes=[Nobody])
    def guarded(self) -> str | None:
        return "never"


@strawberry.type
class Query:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing()


def lean_fields(schema: strawberry.Schema) -> set[str]:
    return {
        f"{graphql_type.name}.{name}"
        for graphql_type in schema._schema.type_map.values()
        if isinstance(graphql_type, GraphQLObjectType)
        for name, field in graphql_type.fields.items()
        if getattr(field.resolve, "__qualname__", "").startswith(_calling.__qualname__)
    }


async def test_only_methods_taking_self_alone_are_called_directly() -> None:
    schema = strawberry.Schema(query=Query)
    assert use_lean_resolvers(schema) == 4

    assert lean_fields(schema) == {"Query.thing", "Thing.upper", "Thing.later", "Thing.broken"}


async def test_answers_and_errors_are_what_strawberry_gives() -> None:
    query = "{ thing { label upper later times(n: 2) asks guarded broken } }"
    plain = strawberry.Schema(query=Query)
    lean = strawberry.Schema(query=Query)
    use_lean_resolvers(lean)

    expected, got = await plain.execute(query), await lean.execute(query)

    assert got.data == expected.data
    assert got.data is not None
    assert got.data["thing"]["broken"] is got.data["thing"]["guarded"] is None
    assert [(e.message, e.path) for e in got.errors or []] == [
        (e.message, e.path) for e in expected.errors or []
    ]
    assert {e.message for e in got.errors or []} == {"nobody", "the resolver's own failure"}
    fine = "{ thing { label upper later times(n: 2) asks } }"
    assert (
        (await lean.execute(fine)).data
        == (await plain.execute(fine)).data
        == {
            "thing": {
                "label": "plain attribute",
                "upper": "PLAIN ATTRIBUTE",
                "later": "plain attribute",
                "times": "plain attributeplain attribute",
                "asks": "Info",
            }
        }
    )


def test_the_gateway_schema_calls_its_customer_fields_directly() -> None:
    lean = lean_fields(build_schema())

    assert {"Customer.name", "Customer.metrics", "CustomerMetrics.mrr"} <= lean
    # Arguments, or personal data (wrapped by protect_pii after): Strawberry's or pii's own.
    assert not {"Query.customerByEmail", "Customer.email"} & lean
