"""Write plans: which provider gets which fields, and the order of creates."""

from __future__ import annotations

from gateway.model import UNSET, Address, CustomerWrite
from gateway.providers.chartmogul.adapter import ChartMogulAdapter
from gateway.providers.firstofficer.adapter import FirstOfficerAdapter
from gateway.providers.lago.adapter import LagoAdapter
from gateway.providers.stripe.adapter import StripeAdapter
from gateway.providers.tofupay.adapter import TofupayAdapter
from gateway.writes.plan import create_order, plan_write, report_order

WRITE = CustomerWrite(
    email="ada@lovelace.example",
    name="Ada",
    company="Analytical Engines",
    currency="gbp",
    address=Address(city="London", country="GB"),
    external_id="co_ada",
    data_source_uuid="ds_9c2d7e44-1b5a-4f3e-8d60-7a1e2b9c5d22",
)


def test_each_provider_gets_what_it_stores_and_reports_the_rest() -> None:
    stripe = plan_write("stripe", WRITE, StripeAdapter.capabilities.writable_fields, creating=True)
    assert set(stripe.write.given()) == {"email", "name", "address", "external_id"}
    assert stripe.skipped == ("company", "currency")  # the data source is routing, not data

    tofupay = plan_write(
        "tofupay", WRITE, TofupayAdapter.capabilities.writable_fields, creating=True
    )
    assert set(tofupay.write.given()) == {"email"}
    assert tofupay.skipped == ("address", "company", "currency", "externalId", "name")

    lago = plan_write("lago", WRITE, LagoAdapter.capabilities.writable_fields, creating=True)
    assert lago.skipped == ()
    assert lago.write.data_source_uuid is UNSET


def test_the_gateway_link_is_added_where_stored_and_never_reported() -> None:
    caps = LagoAdapter.capabilities.writable_fields
    lago = plan_write("lago", WRITE, caps, creating=True, link_stripe_id="cus_New1")
    assert lago.write.stripe_id == "cus_New1" and "stripeId" not in lago.skipped
    fo = plan_write(
        "firstofficer",
        WRITE,
        FirstOfficerAdapter.capabilities.writable_fields,
        creating=True,
        link_stripe_id="cus_New1",
    )
    assert fo.write.stripe_id is UNSET and "stripeId" not in fo.skipped
    # A Stripe id the client sent is its field: reported where it cannot be stored.
    sent = plan_write(
        "firstofficer",
        CustomerWrite(email="a@b.example", stripe_id="cus_Old1"),
        FirstOfficerAdapter.capabilities.writable_fields,
        creating=True,
    )
    assert sent.skipped == ("stripeId",)


def test_chartmogul_link_fields_are_set_at_creation_only() -> None:
    caps = ChartMogulAdapter.capabilities.writable_fields
    change = CustomerWrite(name="Ada K", external_id="co_ada", stripe_id="cus_A1")
    on_create = plan_write("chartmogul", change, caps, creating=True)
    assert set(on_create.write.given()) == {"name", "external_id", "stripe_id"}
    on_update = plan_write("chartmogul", change, caps, creating=False)
    assert set(on_update.write.given()) == {"name"}
    assert on_update.skipped == ("externalId", "stripeId")


def test_nulls_are_kept_so_providers_clear() -> None:
    plan = plan_write(
        "stripe",
        CustomerWrite(phone=None, currency=None),
        StripeAdapter.capabilities.writable_fields,
        creating=False,
    )
    assert plan.write.given() == {"phone": None}
    assert plan.skipped == ("currency",)
    nothing = plan_write(
        "tofupay",
        CustomerWrite(phone=None),
        TofupayAdapter.capabilities.writable_fields,
        creating=False,
    )
    assert not nothing.has_changes and nothing.skipped == ("phone",)


def test_create_order_puts_the_link_source_first() -> None:
    order = create_order(["firstofficer", "lago", "tofupay", "chartmogul", "stripe"])
    assert order.first == ("stripe", "tofupay")
    assert order.then == ("lago", "chartmogul", "firstofficer")
    assert create_order(["lago"]).first == ()
    assert sorted(["lago", "stripe", "firstofficer"], key=report_order) == [
        "stripe",
        "lago",
        "firstofficer",
    ]
