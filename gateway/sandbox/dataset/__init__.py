"""The sandbox's seeded dataset: one overlapping customer base spread over the providers.

:func:`generate` builds it deterministically from a seed (``random.Random(seed)`` only: no clock,
no global state), so a test or a demo sees the same customers every run. :func:`load_dataset`
reads the same shape from a JSON file instead. Records are *minimal*, in each provider's own API
shape; the simulators fill every other field with its documented default.

The overlap patterns, their proportions and the fields that link records are documented in
docs/dataset.md; the fixed scenarios are always the first customers, whatever the seed.

Modules, one job each: :mod:`.model` (the container), :mod:`.files` (loading),
:mod:`.words` (names, companies, places), :mod:`.profiles` (a customer's true facts),
:mod:`.records` (the built-in providers' record shapes), :mod:`.patterns` (the overlap
patterns), :mod:`.scenarios` (the fixed customers), :mod:`.generator` (:func:`generate`).
"""

from gateway.sandbox.dataset.files import load_dataset
from gateway.sandbox.dataset.generator import DEFAULT_EXTERNAL_ID_KEY, generate
from gateway.sandbox.dataset.model import ID_FIELDS, Dataset, DatasetError
from gateway.sandbox.dataset.patterns import LINK_PROBABILITY, PATTERN_WEIGHTS, TOFUPAY_SHARE
from gateway.sandbox.dataset.records import IMPORT_DATA_SOURCE_UUID, STRIPE_DATA_SOURCE_UUID
from gateway.sandbox.dataset.scenarios import (
    DUPLICATE_EMAIL,
    DUPLICATE_STRIPE_IDS,
    EMAIL_ONLY_CHARTMOGUL_EMAIL,
    EMAIL_ONLY_EMAIL,
    EMAIL_ONLY_LAGO_EMAIL,
    EMAIL_ONLY_LAGO_EXTERNAL_ID,
    EMAIL_ONLY_STRIPE_ID,
    FIXED_CUSTOMERS,
    LAGO_ONLY_EMAIL,
    LAGO_ONLY_EXTERNAL_ID,
    PLACEHOLDER_EMAIL,
    PLACEHOLDER_LAGO_EMAIL,
    PLACEHOLDER_LAGO_EXTERNAL_ID,
    PLACEHOLDER_STRIPE_ID,
    SHOWCASE_COMPANY_ID,
    SHOWCASE_EMAIL,
    SHOWCASE_STRIPE_ID,
    SHOWCASE_TOFUPAY_EMAIL,
)

__all__ = [
    "DEFAULT_EXTERNAL_ID_KEY",
    "DUPLICATE_EMAIL",
    "DUPLICATE_STRIPE_IDS",
    "EMAIL_ONLY_CHARTMOGUL_EMAIL",
    "EMAIL_ONLY_EMAIL",
    "EMAIL_ONLY_LAGO_EMAIL",
    "EMAIL_ONLY_LAGO_EXTERNAL_ID",
    "EMAIL_ONLY_STRIPE_ID",
    "FIXED_CUSTOMERS",
    "ID_FIELDS",
    "IMPORT_DATA_SOURCE_UUID",
    "LAGO_ONLY_EMAIL",
    "LAGO_ONLY_EXTERNAL_ID",
    "LINK_PROBABILITY",
    "PATTERN_WEIGHTS",
    "PLACEHOLDER_EMAIL",
    "PLACEHOLDER_LAGO_EMAIL",
    "PLACEHOLDER_LAGO_EXTERNAL_ID",
    "PLACEHOLDER_STRIPE_ID",
    "SHOWCASE_COMPANY_ID",
    "SHOWCASE_EMAIL",
    "SHOWCASE_STRIPE_ID",
    "SHOWCASE_TOFUPAY_EMAIL",
    "STRIPE_DATA_SOURCE_UUID",
    "TOFUPAY_SHARE",
    "Dataset",
    "DatasetError",
    "generate",
    "load_dataset",
]
