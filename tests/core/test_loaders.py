"""Per-request loaders: a record found one way answers its other unique lookups without a call,
whenever they are first asked, and a write's clearing forgets records not yet asked by them."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config import IdentitySettings
from gateway.core.loaders import Loaders
from gateway.model import CustomerRecord, Lookup
from gateway.providers.contract import Capabilities

EMAIL_UNIQUE = Capabilities(
    lookups=frozenset({Lookup.ID, Lookup.EMAIL}),
    unique_lookups=frozenset({Lookup.ID, Lookup.EMAIL}),
)


class CountingAdapter:
    """Answers from its records and notes every lookup it is asked."""

    def __init__(self, name: str, records: Sequence[CustomerRecord]) -> None:
        self.name = name
        self.capabilities = EMAIL_UNIQUE
        self.records = list(records)
        self.asked: list[tuple[Lookup, tuple[str, ...]]] = []

    async def lookup(self, by: Lookup, values: Sequence[str]) -> list[list[CustomerRecord]]:
        self.asked.append((by, tuple(values)))
        if by is Lookup.ID:
            return [[r for r in self.records if r.id == value] for value in values]
        return [[r for r in self.records if r.email == value] for value in values]


def record(record_id: str, email: str) -> CustomerRecord:
    return CustomerRecord("firstofficer", record_id, {"id": record_id}, email=email)


def loaders_for(adapter: CountingAdapter) -> Loaders:
    return Loaders({adapter.name: adapter}, IdentitySettings())


async def test_a_primed_record_answers_its_id_and_its_email_without_a_call() -> None:
    ada, bob = record("1", "ada@example.com"), record("2", "bob@example.com")
    adapter = CountingAdapter("firstofficer", [ada, bob])
    loaders = loaders_for(adapter)

    loaders.prime([ada, bob])

    assert loaders.holds("firstofficer", Lookup.ID, "1")
    assert loaders.holds("firstofficer", Lookup.EMAIL, "Bob@Example.com")
    by_email = await loaders.load("firstofficer", Lookup.EMAIL, "ADA@example.com")
    by_id = await loaders.load("firstofficer", Lookup.ID, "2")
    assert by_email.records == (ada,)
    assert by_id.records == (bob,)
    assert adapter.asked == []


async def test_records_primed_after_the_first_email_lookup_answer_it_too() -> None:
    ada, bob = record("1", "ada@example.com"), record("2", "bob@example.com")
    adapter = CountingAdapter("firstofficer", [ada, bob])
    loaders = loaders_for(adapter)
    loaders.prime([ada])
    await loaders.load("firstofficer", Lookup.EMAIL, "ada@example.com")

    loaders.prime([bob])

    assert (await loaders.load("firstofficer", Lookup.EMAIL, "bob@example.com")).records == (bob,)
    assert adapter.asked == []


async def test_a_loaded_record_primes_the_other_lookups_of_its_provider() -> None:
    ada = record("1", "ada@example.com")
    adapter = CountingAdapter("firstofficer", [ada])
    loaders = loaders_for(adapter)

    await loaders.load("firstofficer", Lookup.ID, "1")
    found = await loaders.load("firstofficer", Lookup.EMAIL, "ada@example.com")

    assert found.records == (ada,)
    assert adapter.asked == [(Lookup.ID, ("1",))]


async def test_clearing_a_provider_forgets_records_not_yet_asked_by_email() -> None:
    ada = record("1", "ada@example.com")
    adapter = CountingAdapter("firstofficer", [ada])
    loaders = loaders_for(adapter)
    loaders.prime([ada])

    # After a write, the written state is read again: nothing primed before it answers.
    loaders.clear([ada])

    assert not loaders.holds("firstofficer", Lookup.ID, "1")
    assert not loaders.holds("firstofficer", Lookup.EMAIL, "ada@example.com")
    await loaders.load("firstofficer", Lookup.EMAIL, "ada@example.com")
    assert adapter.asked == [(Lookup.EMAIL, ("ada@example.com",))]


async def test_a_deleted_record_primes_nothing() -> None:
    gone = CustomerRecord("firstofficer", "1", {}, email="ada@example.com", deleted=True)
    adapter = CountingAdapter("firstofficer", [])
    loaders = loaders_for(adapter)

    loaders.prime([gone])

    assert not loaders.holds("firstofficer", Lookup.ID, "1")
    assert not loaders.holds("firstofficer", Lookup.EMAIL, "ada@example.com")
