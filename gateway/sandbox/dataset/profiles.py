"""One real-world customer's true facts: what every provider record of it is drawn from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

REFERENCE_TIME: Final = 1748736000
"""2025-06-01T00:00:00Z: "now" for the dataset's metrics, so nothing reads the clock."""
EARLIEST_SIGNUP: Final = 1546300800  # 2019-01-01T00:00:00Z
LATEST_SIGNUP: Final = 1743465600  # 2025-04-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str
    country: str
    utc_offset: int


@dataclass(frozen=True, slots=True)
class Profile:
    """The true facts about one customer; provider records are (possibly skewed) views of it."""

    name: str
    email: str
    company: str
    company_id: str
    address: Address
    phone: str
    currency: str
    created: int
    price: int
    """Monthly plan price in minor units of ``currency``."""
    status: str
    """ChartMogul's status: Active, Past Due, Cancelled or New Lead."""
    balance: int = 0

    @property
    def mrr(self) -> int:
        return self.price if self.status in ("Active", "Past Due") else 0

    @property
    def months(self) -> int:
        """Months billed so far; cancelled customers stopped paying half way."""
        total = max(1, (REFERENCE_TIME - self.created) // (30 * 86400))
        if self.status == "New Lead":
            return 0
        return max(1, total // 2) if self.status == "Cancelled" else total


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Müller" -> "muller", "O'Brien" -> "obrien"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def email_variant(email: str, kind: str) -> str:
    """The same address as another system stored it: capitalised, shouted and/or padded."""
    local, _, domain = email.partition("@")
    if kind in ("case", "case+space"):
        email = f"{local[:1].upper()}{local[1:]}@{domain[:1].upper()}{domain[1:]}"
    elif kind == "upper":
        email = email.upper()
    if kind in ("space", "case+space"):
        email = f"  {email} "
    return email
