"""Email matching form: what may join two records and what never may."""

from __future__ import annotations

import pytest

from gateway.config import IdentitySettings
from gateway.identity.emails import normalise_email

PLACEHOLDERS = IdentitySettings().placeholder_emails


@pytest.mark.parametrize(
    "raw",
    ["ann@example.com", " Ann@Example.COM ", "\tANN@EXAMPLE.COM\n", "ann@EXAMPLE.com"],
)
def test_case_and_surrounding_whitespace_are_ignored(raw: str) -> None:
    assert normalise_email(raw, PLACEHOLDERS) == "ann@example.com"


def test_casefold_not_just_lower() -> None:
    assert normalise_email("STRASSE@Example.com", PLACEHOLDERS) == normalise_email(
        "straße@example.com".upper(), PLACEHOLDERS
    )


@pytest.mark.parametrize("raw", [None, "", "   ", "\n"])
def test_blank_never_matches(raw: str | None) -> None:
    assert normalise_email(raw, PLACEHOLDERS) is None


@pytest.mark.parametrize("raw", ["test@test.com", " TEST@test.COM ", "NoReply@Example.com"])
def test_default_placeholders_never_match(raw: str) -> None:
    assert normalise_email(raw, PLACEHOLDERS) is None


def test_placeholders_are_compared_in_matching_form() -> None:
    placeholders = frozenset({" Billing@Example.COM "})
    assert normalise_email("billing@example.com", placeholders) is None
    assert normalise_email("ann@example.com", placeholders) == "ann@example.com"


@pytest.mark.parametrize("raw", ["n/a", "unknown", "ann.example.com", "@example.com", "ann@", "@"])
def test_values_that_are_not_local_at_domain_never_match(raw: str) -> None:
    assert normalise_email(raw, PLACEHOLDERS) is None


def test_inner_whitespace_never_matches() -> None:
    assert normalise_email("ann smith@example.com", PLACEHOLDERS) is None


def test_deliberately_simple_no_trailing_dot_or_tag_folding() -> None:
    assert normalise_email("ann@example.com.", PLACEHOLDERS) == "ann@example.com."
    assert normalise_email("ann+x@example.com", PLACEHOLDERS) == "ann+x@example.com"
