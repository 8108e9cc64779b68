"""The vocabulary generated customers are drawn from: names, companies, countries and cities.

Plain data plus the two helpers that render its templates; changing any list changes every
generated dataset (the byte-identity tests pin them).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

FIRST_NAMES: Final = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Charlotte", "Mateo", "Hannah", "Leon", "Chloé", "José", "Zoë", "Søren", "Björn", "Amélie",
    "Priya", "Arjun", "Mei", "Kenji", "Fatima", "Omar", "Ingrid", "Lars", "Aisling", "Cian",
    "Lucía", "Diego", "Nadia", "Tomás", "Freya", "Hugo", "Elif", "Yusuf", "Ava", "Ethan",
)  # fmt: skip
LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Miller", "Davis", "Müller",
    "Schmidt", "Dubois", "Martin", "de Vries", "Jansen", "O'Brien", "Murphy", "Fernández",
    "López", "Rossi", "Nakamura", "Patel", "Singh", "Chen", "Wang", "Kim", "Nguyen", "Andersen",
    "Nielsen", "Kowalski", "Novak", "Walsh", "Taylor", "Wilson", "Clarke", "Fischer", "Weber",
    "Moreau", "Laurent", "Bakker", "Visser",
)  # fmt: skip
COMPANY_STEMS: Final = (
    "Acme", "Northwind", "Bluefin", "Copperleaf", "Brightpath", "Nimbus", "Quarry", "Lumen",
    "Harbor", "Pinecone", "Redwood", "Stratus", "Vertex", "Juniper", "Beacon", "Falcon",
    "Meridian", "Orbit", "Tidal", "Kestrel", "Granite", "Maple", "Summit", "Aurora", "Cobalt",
    "Evergreen", "Foxglove", "Helix", "Ironbark", "Wildflower",
)  # fmt: skip
COMPANY_KINDS: Final = (
    "Labs", "Analytics", "Software", "Studio", "Systems", "Cloud", "Health", "Logistics",
    "Media", "Robotics", "Payments", "Learning",
)  # fmt: skip
COMPANY_FORMS: Final[Mapping[str, tuple[str, ...]]] = {
    "US": ("Inc.", "LLC", ""),
    "CA": ("Inc.", "Ltd.", ""),
    "AU": ("Pty Ltd", ""),
    "GB": ("Ltd", "PLC", ""),
    "IE": ("Ltd", "DAC", ""),
    "DE": ("GmbH", "AG", ""),
    "FR": ("SAS", "SARL", ""),
    "NL": ("B.V.", ""),
    "ES": ("S.L.", "S.A.", ""),
}
PLAN_PRICES: Final = (2900, 4900, 9900, 19900, 49900, 99900)
"""Monthly plan prices in minor units of the customer's currency."""
USD_PER_MILLE: Final[Mapping[str, int]] = {"usd": 1000, "eur": 1080, "gbp": 1270}
"""Fixed conversion to ChartMogul's account currency (USD), per 1000 minor units."""
ALNUM: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class City:
    name: str
    state: str
    postal: str
    """Template: ``#`` -> a digit, ``@`` -> an upper-case letter."""
    utc_offset: int
    """Hours; ChartMogul renders ``customer-since`` in the customer's offset."""


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    currency: str
    phone_prefix: str
    weight: int
    number_first: bool
    streets: tuple[str, ...]
    cities: tuple[City, ...]


COUNTRIES: Final = (
    Country(
        "US", "usd", "+1", 45, True,
        ("Main Street", "Market Street", "Oak Avenue", "Mission Street", "Broadway", "Pine Street"),
        (
            City("San Francisco", "CA", "941##", -8), City("New York", "NY", "100##", -5),
            City("Austin", "TX", "787##", -6), City("Seattle", "WA", "981##", -8),
            City("Boston", "MA", "021##", -5), City("Chicago", "IL", "606##", -6),
            City("Denver", "CO", "802##", -7),
        ),
    ),
    Country(
        "GB", "gbp", "+44", 15, True,
        ("High Street", "Church Road", "Station Road", "Victoria Road"),
        (
            City("London", "England", "EC# #@@", 0), City("Manchester", "England", "M# #@@", 0),
            City("Edinburgh", "Scotland", "EH# #@@", 0), City("Bristol", "England", "BS# #@@", 0),
        ),
    ),
    Country(
        "DE", "eur", "+49", 10, False,
        ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße"),
        (
            City("Berlin", "Berlin", "10###", 1), City("Munich", "Bavaria", "80###", 1),
            City("Hamburg", "Hamburg", "20###", 1),
        ),
    ),
    Country(
        "FR", "eur", "+33", 7, True,
        ("Rue de la Paix", "Avenue Victor Hugo", "Rue du Moulin"),
        (City("Paris", "Île-de-France", "750##", 1), City("Lyon", "Rhône", "6900#", 1)),
    ),
    Country(
        "NL", "eur", "+31", 5, False,
        ("Keizersgracht", "Prinsengracht", "Damrak"),
        (
            City("Amsterdam", "Noord-Holland", "10## @@", 1),
            City("Utrecht", "Utrecht", "35## @@", 1),
        ),
    ),
    Country(
        "IE", "eur", "+353", 4, True,
        ("Grafton Street", "Baggot Street", "Dame Street"),
        (City("Dublin", "Dublin", "D0# @###", 0), City("Cork", "Cork", "T12 @###", 0)),
    ),
    Country(
        "ES", "eur", "+34", 4, False,
        ("Calle Mayor", "Gran Vía", "Calle de Alcalá"),
        (City("Madrid", "Madrid", "280##", 1), City("Barcelona", "Catalonia", "080##", 1)),
    ),
    Country(
        "CA", "usd", "+1", 6, True,
        ("King Street West", "Granville Street", "Queen Street"),
        (City("Toronto", "ON", "M5V #@#", -5), City("Vancouver", "BC", "V6B #@#", -8)),
    ),
    Country(
        "AU", "usd", "+61", 4, True,
        ("George Street", "Collins Street", "Queen Street"),
        (City("Sydney", "NSW", "2000", 10), City("Melbourne", "VIC", "3000", 10)),
    ),
)  # fmt: skip
COUNTRY_WEIGHTS: Final = tuple(c.weight for c in COUNTRIES)
COUNTRY_BY_CODE: Final = {c.code: c for c in COUNTRIES}


def fill(template: str, rng: random.Random) -> str:
    """A postal code from a :attr:`City.postal` template."""
    return "".join(
        str(rng.randrange(10)) if ch == "#" else rng.choice(ALNUM[10:36]) if ch == "@" else ch
        for ch in template
    )


def street_line(country: Country, rng: random.Random) -> str:
    """A house number and street, in the order the country writes them."""
    number, street = rng.randint(1, 480), rng.choice(country.streets)
    return f"{number} {street}" if country.number_first else f"{street} {number}"
