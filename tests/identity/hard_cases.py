"""A labelled set of hard identity cases: every record with the customer it belongs to.

Loaded into the five simulators like ``customer-gateway sandbox --dataset`` loads a file
(:func:`dataset` is a :class:`Dataset`; ``dataset().dumps()`` is that file), so the tests can
look every record up through the GraphQL API and compare the answer with its label. The
cases are the ones today's search-and-hop expansion gets wrong or could get wrong:

* ``chain-*``: one customer in all five providers, linked by Stripe id and company id, with
  Tofupay linked by email (three of the four in another case; one ChartMogul email padded).
* ``case-*``: records linked only by emails differing in case and surrounding whitespace
  (Stripe and Tofupay refuse padded emails, so the padding is in ChartMogul, Lago and
  FirstOfficer). Stripe's list filter, its fallback where search is unavailable, compares
  them case-sensitively.
* ``meta-*``: the company id only in Stripe ``metadata.company_id`` (the ``external_id``
  namespace), each record with another email.
* ``hops-*``: chains of 5 and 6 hops through every kind of key
  (email -> Stripe id -> company id -> email -> Stripe id -> email), longer than ``max_hops``.
* ``custom-*``: records linked only by :data:`CUSTOM_NAMESPACE`, a link rule added in
  configuration (:func:`identity_settings`): an account reference in Stripe and Tofupay
  metadata and in ChartMogul's custom attributes. Built-in rules keep them apart.
* ``tie-*``: more Stripe records sharing one email than ``max_records_per_provider`` allows;
  the earliest created join first, and the smallest ids are the newest records, so joining by
  id would give other customers.
* ``orphans``: two records naming the same deleted Stripe customer (they share its id).
* ``apart-*`` and ``only-*``: records that must stay apart (placeholder emails, a ChartMogul
  uuid that looks like a Stripe id, look-alike emails and names) and single records.
* Deleted records (``DELETED``) that no lookup may return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from gateway.config import IdentitySettings
from gateway.model import RecordRef
from gateway.sandbox.dataset import ID_FIELDS, Dataset

__all__ = [
    "CUSTOM_NAMESPACE",
    "DELETED",
    "LABELS",
    "Labelled",
    "customers",
    "dataset",
    "identity_settings",
]

CUSTOM_NAMESPACE: Final = "account_ref"
"""The link namespace :func:`identity_settings` adds (no built-in rule knows it)."""
CUSTOM_RULES: Final = (
    "stripe:metadata.account_ref",
    "tofupay:metadata.account_ref",
    "chartmogul:attributes.custom.account_ref",
)
STRIPE_SOURCE: Final = "ds_5f0f2c1e-8a3b-4c7d-9e21-3b6a1d0c4f11"
IMPORT_SOURCE: Final = "ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22"
_EPOCH: Final = 1_600_000_000


@dataclass(frozen=True, slots=True)
class Labelled:
    """One record in its provider's API shape, with the customer it belongs to."""

    provider: str
    raw: Mapping[str, Any]
    customer: str
    """The intended customer's label."""

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.provider, str(self.raw[ID_FIELDS[self.provider]]))


def _when(day: int) -> int:
    return _EPOCH + day * 86_400


def _iso(day: int) -> str:
    return datetime.fromtimestamp(_when(day), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cm_uuid(n: int) -> str:
    return f"cus_00000000-0000-4000-8000-{n:012d}"


def stripe(label: str, id: str, email: str | None, day: int, **extra: Any) -> Labelled:
    raw = {"id": id, "email": email, "created": _when(day), **extra}
    return Labelled("stripe", raw, label)


def tofupay(label: str, id: str, email: str, day: int, **extra: Any) -> Labelled:
    return Labelled("tofupay", {"id": id, "email": email, "created": _when(day), **extra}, label)


def lago(
    label: str, external_id: str, email: str, day: int, stripe_id: str | None = None
) -> Labelled:
    raw: dict[str, Any] = {"external_id": external_id, "email": email, "created_at": _iso(day)}
    if stripe_id is not None:
        raw["billing_configuration"] = {
            "payment_provider": "stripe",
            "provider_customer_id": stripe_id,
        }
    return Labelled("lago", raw, label)


def chartmogul(
    label: str, n: int, email: str, day: int, external_id: str, **extra: Any
) -> Labelled:
    stripe_linked = external_id.startswith("cus_")
    source = STRIPE_SOURCE if stripe_linked else IMPORT_SOURCE
    raw = {
        "uuid": _cm_uuid(n),
        "id": 9000 + n,
        "external_id": external_id,
        "external_ids": [external_id],
        "data_source_uuid": source,
        "data_source_uuids": [source],
        "billing-system-type": "Stripe" if stripe_linked else "Import API",
        "email": email,
        "customer-since": _iso(day).replace("Z", "+00:00"),
        **extra,
    }
    return Labelled("chartmogul", raw, label)


def firstofficer(
    label: str,
    id: int,
    email: str,
    stripe_id: str | None = None,
    extra_id: str | None = None,
) -> Labelled:
    raw = {"id": id, "email": email, "stripe_id": stripe_id, "extra_id": extra_id}
    return Labelled("firstofficer", raw, label)


def _chains() -> list[Labelled]:
    out: list[Labelled] = []
    for n in (1, 2, 3, 4):
        label, sid, co = f"chain-{n}", f"cus_Chain{n}", f"co_chain{n}"
        email = f"owner{n}@chain{n}.example"
        # Tofupay links by email only: as stored, capitalised, upper case, mixed (its API
        # refuses padding, so the fourth's ChartMogul record is padded instead).
        shown = (email, email.capitalize(), email.upper(), f"OWNER{n}@chain{n}.EXAMPLE")[n - 1]
        out += [
            stripe(label, sid, email, n, metadata={"company_id": co}),
            chartmogul(label, n, f" {email} " if n == 4 else email, n + 1, sid),
            firstofficer(label, 100 + n, email, sid, co),
            lago(label, co, email, n + 2, sid),
            tofupay(label, f"cus_ChainTofu{n}", shown, n + 3),
        ]
    return out


def _cases() -> list[Labelled]:
    return [
        # Stripe stores the odd case; its list filter is case-sensitive.
        stripe("case-1", "cus_Case1", "Mixed1@Case.Example", 10),
        chartmogul("case-1", 11, "  MIXED1@case.example  ", 11, "crm-1001"),
        lago("case-1", "co_case1", "mixed1@CASE.example", 12),
        tofupay("case-1", "cus_CaseTofu1", "MIXED1@case.example", 13),
        firstofficer("case-1", 111, " Mixed1@case.EXAMPLE"),
        # No Stripe record: Tofupay, ChartMogul and Lago, each in its own spelling.
        tofupay("case-2", "cus_CaseTofu2", "CASE2@EXAMPLE.NET", 14),
        chartmogul("case-2", 12, "\tcase2@example.net ", 15, "crm-1002"),
        lago("case-2", "co_case2", "Case2@Example.Net", 16),
        # Stripe in capitals (its API refuses padding), FirstOfficer padded.
        stripe("case-3", "cus_Case3", "CASE3@Whitespace.example", 17),
        firstofficer("case-3", 113, "  case3@whitespace.example\t"),
        tofupay("case-3", "cus_CaseTofu3", "Case3@Whitespace.Example", 18),
    ]


def _metadata_only() -> list[Labelled]:
    out: list[Labelled] = []
    for n in (1, 2, 3):
        label, co = f"meta-{n}", f"co_meta{n}"
        out += [
            stripe(
                label,
                f"cus_Meta{n}",
                f"m{n}-stripe@meta.example",
                20 + n,
                metadata={"company_id": co},
            ),
            firstofficer(label, 120 + n, f"m{n}-fo@meta.example", extra_id=co),
        ]
        if n != 3:
            out.append(lago(label, co, f"m{n}-lago@meta.example", 24 + n))
    return out


def _hops() -> list[Labelled]:
    one = "hops-1"
    two = "hops-2"
    return [
        # A -email- B -stripe id- C -company id- D -email- E -stripe id- F -email- G
        tofupay(one, "cus_HopA1", "hop1-a@hops.example", 30),
        stripe(one, "cus_HopB1", "Hop1-A@hops.example", 31),
        firstofficer(one, 131, "hop1-c@hops.example", "cus_HopB1", "co_hop1"),
        lago(one, "co_hop1", "hop1-d@hops.example", 32),
        chartmogul(one, 31, "HOP1-D@HOPS.EXAMPLE", 33, "cus_HopF1"),
        stripe(one, "cus_HopF1", "hop1-f@hops.example", 34),
        tofupay(one, "cus_HopG1", "HOP1-F@hops.example", 35),
        # A -company id- B -stripe id- C -email- D -stripe id- E -email- F
        lago(two, "co_hop2", "hop2-a@hops.example", 40),
        stripe(two, "cus_HopB2", "hop2-b@hops.example", 41, metadata={"company_id": "co_hop2"}),
        chartmogul(two, 32, "hop2-c@hops.example", 42, "cus_HopB2"),
        firstofficer(two, 132, "Hop2-C@Hops.Example", "cus_HopD2"),
        stripe(two, "cus_HopD2", "hop2-e@hops.example", 43),
        lago(two, "co_hop2f", " HOP2-E@hops.example", 44),
    ]


def _custom() -> list[Labelled]:
    def ref(value: str) -> dict[str, Any]:
        return {"metadata": {CUSTOM_NAMESPACE: value}}

    return [
        stripe("custom-1", "cus_Custom1", "ann@alpha.example", 50, **ref("acct-1001")),
        tofupay(
            "custom-1", "cus_CustomTofu1", "billing@alpha-corp.example", 51, **ref("acct-1001")
        ),
        chartmogul(
            "custom-1",
            51,
            "finance@alpha.example",
            52,
            "crm-2001",
            attributes={"custom": {CUSTOM_NAMESPACE: "acct-1001"}},
        ),
        tofupay("custom-2", "cus_CustomTofu2", "ops@beta.example", 53, **ref("acct-1002")),
        chartmogul(
            "custom-2",
            52,
            "cfo@beta.example",
            54,
            "crm-2002",
            attributes={"custom": {CUSTOM_NAMESPACE: " acct-1002 "}},
        ),
        # Another value: stays apart.
        stripe("custom-3", "cus_Custom3", "ann@gamma.example", 55, **ref("acct-1003")),
    ]


def _ties() -> list[Labelled]:
    email = "shared@tie.example"
    # Smallest id = newest: joining by id would put TieA, TieB, TieC together.
    return [
        lago("tie-early", "co_tie", "Shared@Tie.Example", 59),
        stripe("tie-late", "cus_TieA", email, 65),
        stripe("tie-late", "cus_TieB", email, 64),
        stripe("tie-early", "cus_TieC", email, 63),
        stripe("tie-early", "cus_TieD", email, 62),
        stripe("tie-early", "cus_TieE", email, 61),
    ]


def _apart() -> list[Labelled]:
    lookalike = "cus_00000000-0000-4000-8000-000000000071"
    return [
        # Placeholders never link.
        stripe("apart-placeholder-stripe", "cus_Placeholder1", "noreply@example.com", 70),
        lago("apart-placeholder-lago", "co_placeholder", "NoReply@Example.com ", 70),
        chartmogul("apart-na-1", 61, "n/a", 70, "crm-3001"),
        chartmogul("apart-na-2", 62, "N/A ", 70, "crm-3002"),
        # A ChartMogul uuid is not a Stripe id, even where another record holds it.
        chartmogul("apart-uuid-1", 71, "uuid1@apart.example", 71, lookalike),
        firstofficer("apart-uuid-2", 171, "uuid2@apart.example", lookalike),
        # Look-alike emails and one name, different people.
        stripe("apart-sam-1", "cus_Sam1", "sam@apart.example", 72, name="Sam Smith"),
        stripe("apart-sam-2", "cus_Sam2", "sam@apart.example.org", 72, name="Sam Smith"),
        tofupay(
            "apart-sam-3", "cus_SamTofu3", "sam.smith@apart.example", 72, description="Sam Smith"
        ),
        # Orphans: both name a deleted Stripe customer, so they share its id.
        firstofficer("orphans", 181, "orphan-fo@gone.example", "cus_Deleted1"),
        lago("orphans", "co_orphan", "orphan-lago@gone.example", 73, "cus_Deleted1"),
        # Single records.
        stripe("only-stripe", "cus_Solo1", "solo-stripe@only.example", 74),
        chartmogul("only-chartmogul", 81, "solo-cm@only.example", 74, "crm-4001"),
        firstofficer("only-firstofficer", 191, "solo-fo@only.example"),
        lago("only-lago", "co_solo", "solo-lago@only.example", 74),
        tofupay("only-tofupay", "cus_SoloTofu1", "solo-tofu@only.example", 74),
    ]


DELETED: Final = (
    RecordRef("stripe", "cus_Deleted1"),
    RecordRef("stripe", "cus_Deleted2"),
    RecordRef("tofupay", "cus_DeletedTofu1"),
)
"""Deleted records: in the dataset, never in an answer."""

LABELS: Final[tuple[Labelled, ...]] = (
    *_chains(),
    *_cases(),
    *_metadata_only(),
    *_hops(),
    *_custom(),
    *_ties(),
    *_apart(),
)
"""Every live record, labelled."""


def dataset() -> Dataset:
    """The labelled records plus the deleted ones, as the sandbox loads them."""
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for labelled in LABELS:
        records[labelled.provider].append(dict(labelled.raw))
    for ref in DELETED:
        records[ref.provider].append({"id": ref.id, "deleted": True})
    return Dataset(**records)


def customers() -> dict[str, frozenset[RecordRef]]:
    """Label -> the records of that customer."""
    out: dict[str, set[RecordRef]] = defaultdict(set)
    for labelled in LABELS:
        out[labelled.customer].add(labelled.ref)
    return {label: frozenset(refs) for label, refs in out.items()}


def identity_settings(base: IdentitySettings | None = None) -> IdentitySettings:
    """``base`` (default settings) with the :data:`CUSTOM_NAMESPACE` link rule added."""
    base = base or IdentitySettings()
    return replace(base, link_rules={**base.link_rules, CUSTOM_NAMESPACE: CUSTOM_RULES})
