"""Fuzzing the gateway with documents generated from its own schema (hypothesis-graphql).

Valid documents (every field, argument and input the schema has, with arbitrary values) and
invalid ones (wrong types, missing arguments) go to the in-process gateway over the in-process
simulators, queries and mutations alike. Whatever is asked, the answer is never a 5xx and no
error is ``INTERNAL_SERVER_ERROR``: a bad input is the client's error, with its own code.

Few examples by default (a few seconds); ``HYPOTHESIS_PROFILE=nightly`` runs many more
(profiles in tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import graphql
import hypothesis_graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from gateway.sandbox.dataset import Dataset
from resolvers.schema import build_schema
from tests.conftest import GatewayHarness, gateway_harness

GRAPHQL_RESPONSE = "application/graphql-response+json"


def object_node(fields: dict[str, graphql.ValueNode]) -> graphql.ObjectValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
            for name, value in fields.items()
        ]
    )


NAMES = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z")
JSON_LEAVES = st.one_of(
    st.text(max_size=20).map(nodes.String),
    st.integers(min_value=-(2**40), max_value=2**40).map(nodes.Int),
    st.booleans().map(nodes.Boolean),
    st.just(nodes.Null),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(nodes.List),
        st.dictionaries(NAMES, inner, max_size=3).map(object_node),
    ),
    max_leaves=8,
)
# `_entities` representations: well-formed, malformed and of unknown types.
REPRESENTATIONS = st.one_of(
    st.fixed_dictionaries(
        {
            "__typename": st.sampled_from(["Customer", "Order", ""]).map(nodes.String),
            "id": st.one_of(st.text(max_size=30).map(nodes.String), JSON_LEAVES),
        }
    ).map(object_node),
    JSON_VALUES,
)

DOCUMENTS = st.one_of(
    hypothesis_graphql.from_schema(
        build_schema()._schema,
        custom_scalars={"JSON": JSON_VALUES, "_Any": REPRESENTATIONS},
        mode=mode,
        # Any code point, lone surrogates too (sent as JSON escapes): inputs must refuse them.
        codec=None,
    )
    for mode in (hypothesis_graphql.Mode.POSITIVE, hypothesis_graphql.Mode.NEGATIVE)
)


def assert_no_internal_error(status: int, body: dict[str, Any]) -> None:
    assert status < 500, body
    codes = [(error.get("extensions") or {}).get("code") for error in body.get("errors") or []]
    assert None not in codes, body
    assert "INTERNAL_SERVER_ERROR" not in codes, body


KNOWN = "{ customers(first: 40) { edges { node { id email stripe { id } lago { externalId } } } } }"


async def known_values(gateway: GatewayHarness) -> list[str]:
    """Ids and emails of the sandbox's customers, so generated lookups also find someone."""
    body = await gateway.query(KNOWN)
    nodes_ = [edge["node"] for edge in body["data"]["customers"]["edges"]]
    values = {n["id"] for n in nodes_} | {n["email"] for n in nodes_ if n["email"]}
    for node in nodes_:
        values |= {r["id"] for r in node["stripe"] or ()}
        values |= {r["externalId"] for r in node["lago"] or ()}
    return sorted(values)


@st.composite
def documents(draw: st.DrawFn, known: list[str]) -> str:
    """A generated document with some of its string literals swapped for known ids/emails."""
    document = draw(DOCUMENTS)
    try:
        tree = graphql.parse(document)
    except graphql.GraphQLError:
        return document

    class Swap(graphql.Visitor):
        def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> Any:
            if draw(st.booleans()):
                return graphql.StringValueNode(value=draw(st.sampled_from(known)))
            return None

    return graphql.print_ast(graphql.visit(tree, Swap()))


def fuzz(gateway: GatewayHarness, runner: asyncio.Runner, known: list[str]) -> None:
    @settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(
        document=documents(known), accept=st.sampled_from(["application/json", GRAPHQL_RESPONSE])
    )
    def examples(document: str, accept: str) -> None:
        response = runner.run(
            gateway.client.post(
                "/graphql",
                content=json.dumps({"query": document}),  # ASCII: escapes lone surrogates
                headers={"accept": accept, "content-type": "application/json"},
            )
        )
        assert_no_internal_error(response.status_code, response.json())

    examples()


def test_no_generated_document_is_an_internal_error(small_dataset: Dataset) -> None:
    # One gateway for every example (a fresh one each would cost more than the examples), on
    # one event loop the examples share.
    with asyncio.Runner() as runner:
        harness = gateway_harness(small_dataset)
        gateway = runner.run(harness.__aenter__())
        try:
            fuzz(gateway, runner, runner.run(known_values(gateway)))
        finally:
            runner.run(harness.__aexit__(None, None, None))
