"""Validate a unified customer change before the first write.

Pure code: an invalid input is answered with field errors a form can show, and nothing is sent
to any provider. Each limit is the strictest one among the providers that store the field, with
its source named beside it; where no provider documents one, the limit is a conservative choice
and says so.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any, Final

import pycountry
from email_validator import EmailNotValidError, validate_email

from gateway.errors import ErrorCode, FieldError
from gateway.identity import is_stripe_customer_id
from gateway.inputs import character_problem
from gateway.model import UNSET, Address, CustomerWrite, WritableField
from gateway.providers.registry import BY_NAME, label
from gateway.providers.spec import WriteCheck
from gateway.writes.fields import ADDRESS_INPUT_NAMES, input_name

# --- limits ---------------------------------------------------------------------------------

MAX_LENGTHS: Final[Mapping[str, int]] = {
    # Stripe: "This may be up to 512 characters" (customer `email`, seeds/004).
    "email": 512,
    # Lago OpenAPI: customer `name` maxLength 255 (Stripe allows 256; the stricter wins).
    "name": 255,
    # Stripe OpenAPI spec: customer `phone` maxLength 20.
    "phone": 20,
    # Stripe OpenAPI spec: customer `description` maxLength 5000.
    "description": 5000,
    # Conservative: no provider documents a limit for Lago `legal_name` / ChartMogul `company`;
    # 255 like Lago's name.
    "company": 255,
    # Conservative: it is also a Stripe metadata value (<= 500) and a URL segment in Lago and
    # FirstOfficer; 255 keeps it well inside both.
    "external_id": 255,
    # Stripe object ids are at most 255 characters (the same bound as its idempotency keys).
    "stripe_id": 255,
    # Conservative: a ChartMogul data source uuid is "ds_" + a 36-character uuid.
    "data_source_uuid": 64,
}
ADDRESS_MAX_LENGTH: Final = 200
"""Conservative: Stripe's spec allows 5000 per address line; 200 fits every provider's form."""
METADATA_MAX_KEYS: Final = 50
METADATA_KEY_MAX_LENGTH: Final = 40
METADATA_VALUE_MAX_LENGTH: Final = 500
"""Stripe's metadata limits (docs.stripe.com/api/metadata): 50 keys, keys up to 40 characters
without ``[`` or ``]``, values up to 500 characters."""
IDEMPOTENCY_KEY_MAX_LENGTH: Final = 255
"""Stripe's bound on ``Idempotency-Key`` (providers.md)."""

_DATA_SOURCE_UUID: Final = re.compile(
    r"ds_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
_UNTRIMMED: Final = frozenset({"description"})
"""Text kept exactly as sent; every other text field is trimmed."""


def normalise_write(write: CustomerWrite) -> CustomerWrite:
    """Trim text (but not ``description``), upper-case the country, lower-case the currency.

    Values of the wrong type are left alone for :func:`validate_write` to report.
    """
    changes: dict[str, Any] = {}
    for f in fields(write):
        value = getattr(write, f.name)
        if isinstance(value, str) and f.name not in _UNTRIMMED:
            value = value.strip()
            if f.name == "currency":
                value = value.lower()
            changes[f.name] = value
    address = write.address
    if isinstance(address, Address):
        parts = {
            name: (value.strip() if isinstance(value, str) else value)
            for name in ADDRESS_INPUT_NAMES
            if (value := getattr(address, name)) is not None
        }
        if isinstance(parts.get("country"), str):
            parts["country"] = parts["country"].upper()
        changes["address"] = Address(**{k: (v or None) for k, v in parts.items()})
    return replace(write, **changes)


def validate_write(
    write: CustomerWrite,
    *,
    creating: bool,
    external_id_key: str,
    targets: Collection[str] = (),
    creates_stripe: bool = False,
    record_ids: Mapping[str, Collection[str]] | None = None,
    prefix: tuple[str, ...] = ("input",),
) -> list[FieldError]:
    """Every problem with ``write`` (already :func:`normalise_write`-ed).

    ``targets`` are the providers the write goes to; rules that depend on a provider (required
    fields, fields it cannot clear or change, id shapes it would misread) apply only to those.
    ``creates_stripe`` says a Stripe record is created in the same call (its id links the
    others). ``record_ids`` (updates) maps a provider to the ids of the records being changed.
    """
    errors: list[FieldError] = []
    given = write.given()
    if not creating and not given:
        errors.append(
            FieldError(prefix, "give at least one field to change", ErrorCode.EMPTY_INPUT)
        )
    if not creating and "data_source_uuid" in given:
        errors.append(
            FieldError(
                (*prefix, input_name(WritableField.DATA_SOURCE_UUID)),
                "a ChartMogul customer's data source is chosen when it is created",
                ErrorCode.NOT_CHANGEABLE,
            )
        )
    for field_name, value in given.items():
        path = (*prefix, input_name(field_name))
        if value is None:
            continue
        if field_name == "address":
            errors.extend(_address_errors(value, path))
        elif field_name == "metadata":
            errors.extend(_metadata_errors(value, path, external_id_key))
        elif not isinstance(value, str):
            errors.append(FieldError(path, "must be a string", ErrorCode.INVALID_FORMAT))
        else:
            errors.extend(_text_errors(field_name, value, path))
    errors.extend(_target_errors(write, creating, targets, creates_stripe, record_ids, prefix))
    return errors


def _character_errors(
    value: str, path: tuple[str, ...], *, free_text: bool = False
) -> list[FieldError]:
    problem = character_problem(value, free_text=free_text)
    return [] if problem is None else [FieldError(path, problem, ErrorCode.INVALID_FORMAT)]


def _text_errors(field_name: str, value: str, path: tuple[str, ...]) -> list[FieldError]:
    if bad := _character_errors(value, path, free_text=field_name in _UNTRIMMED):
        return bad
    if not value.strip():
        return [FieldError(path, "must not be blank (send null to clear)", ErrorCode.BLANK)]
    limit = MAX_LENGTHS.get(field_name)
    if limit is not None and len(value) > limit:
        return [FieldError(path, f"must be at most {limit} characters", ErrorCode.TOO_LONG)]
    if field_name == "email":
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            return [FieldError(path, f"not a valid email address: {exc}", ErrorCode.INVALID_EMAIL)]
    elif field_name == "currency":
        if len(value) != 3 or pycountry.currencies.get(alpha_3=value.upper()) is None:
            return [
                FieldError(
                    path, f"not an ISO 4217 currency code: {value!r}", ErrorCode.INVALID_CURRENCY
                )
            ]
    elif field_name == "stripe_id" and not is_stripe_customer_id(value):
        return [
            FieldError(
                path, f"not a Stripe customer id (cus_…): {value!r}", ErrorCode.INVALID_FORMAT
            )
        ]
    elif field_name == "data_source_uuid" and not _DATA_SOURCE_UUID.fullmatch(value):
        message = f"not a ChartMogul data source uuid (ds_<uuid>): {value!r}"
        return [FieldError(path, message, ErrorCode.INVALID_FORMAT)]
    return []


def _address_errors(address: Any, path: tuple[str, ...]) -> list[FieldError]:
    if not isinstance(address, Address):
        return [FieldError(path, "must be an address object", ErrorCode.INVALID_FORMAT)]
    if address.is_empty():
        return [
            FieldError(path, "give at least one address field, or null to clear", ErrorCode.BLANK)
        ]
    errors: list[FieldError] = []
    for name, graphql_name in ADDRESS_INPUT_NAMES.items():
        value = getattr(address, name)
        part = (*path, graphql_name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(FieldError(part, "must be a string", ErrorCode.INVALID_FORMAT))
        elif bad := _character_errors(value, part):
            errors.extend(bad)
        elif len(value) > ADDRESS_MAX_LENGTH:
            errors.append(
                FieldError(
                    part, f"must be at most {ADDRESS_MAX_LENGTH} characters", ErrorCode.TOO_LONG
                )
            )
        elif name == "country" and (
            len(value) != 2 or pycountry.countries.get(alpha_2=value.upper()) is None
        ):
            message = f"not an ISO 3166-1 alpha-2 country code: {value!r}"
            errors.append(FieldError(part, message, ErrorCode.INVALID_COUNTRY))
    return errors


def _metadata_errors(metadata: Any, path: tuple[str, ...], reserved: str) -> list[FieldError]:
    if not isinstance(metadata, Mapping):
        return [FieldError(path, "must be an object of string values", ErrorCode.METADATA_INVALID)]
    errors: list[FieldError] = []
    if len(metadata) > METADATA_MAX_KEYS:
        errors.append(
            FieldError(
                path,
                f"at most {METADATA_MAX_KEYS} keys (got {len(metadata)})",
                ErrorCode.METADATA_TOO_MANY_KEYS,
            )
        )
    for key, value in metadata.items():
        entry = (*path, str(key))
        if problem := character_problem(str(key)):
            message = f"metadata key {problem}"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_KEY_INVALID))
        elif not str(key).strip():
            message = "metadata keys must not be blank"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_KEY_INVALID))
        elif len(str(key)) > METADATA_KEY_MAX_LENGTH:
            message = f"metadata keys must be at most {METADATA_KEY_MAX_LENGTH} characters"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_KEY_TOO_LONG))
        elif "[" in str(key) or "]" in str(key):
            message = "metadata keys cannot contain '[' or ']'"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_KEY_INVALID))
        elif key == reserved:
            message = f"{key!r} holds the external id link: set externalId instead"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_KEY_RESERVED))
        if not isinstance(value, str):
            errors.append(
                FieldError(entry, "metadata values must be strings", ErrorCode.METADATA_INVALID)
            )
        elif problem := character_problem(value, free_text=True):
            errors.append(
                FieldError(entry, f"metadata value {problem}", ErrorCode.METADATA_INVALID)
            )
        elif len(value) > METADATA_VALUE_MAX_LENGTH:
            message = f"metadata values must be at most {METADATA_VALUE_MAX_LENGTH} characters"
            errors.append(FieldError(entry, message, ErrorCode.METADATA_VALUE_TOO_LONG))
    return errors


def _target_errors(
    write: CustomerWrite,
    creating: bool,
    targets: Collection[str],
    creates_stripe: bool,
    record_ids: Mapping[str, Collection[str]] | None,
    prefix: tuple[str, ...],
) -> list[FieldError]:
    """Rules that depend on the providers written to, from their specs."""
    given = write.given()
    errors: list[FieldError] = []
    reported: set[WritableField] = set()

    def add(field_name: WritableField, message: str, code: ErrorCode) -> None:
        if field_name not in reported:  # one error per field is enough for a form
            reported.add(field_name)
            errors.append(FieldError((*prefix, input_name(field_name)), message, code))

    for provider in sorted(targets):
        spec = BY_NAME.get(provider)
        if spec is None:
            continue
        if creating:
            for field_name in spec.required_to_create:
                if not _present(given.get(field_name)):
                    message = f"required to create the customer in {spec.label}"
                    add(field_name, message, ErrorCode.REQUIRED)
        else:
            for field_name in spec.not_clearable:
                if field_name in given and given[field_name] is None:
                    message = f"{spec.label} cannot store a customer without it"
                    add(field_name, message, ErrorCode.NOT_CLEARABLE)
        check = WriteCheck(
            given=given,
            creating=creating,
            link_created=creates_stripe,
            record_ids=(record_ids or {}).get(provider, ()),
        )
        for problem in spec.rules(check):
            add(problem.field, problem.message, problem.code)
    return errors


def _present(value: Any) -> bool:
    return value is not UNSET and value is not None and (not isinstance(value, str) or bool(value))


def validate_providers(
    requested: Sequence[str] | None, configured: Collection[str], *, path: str = "providers"
) -> list[FieldError]:
    """``providers`` must name configured providers, and at least one."""
    if requested is None:
        return []
    if not requested:
        return [
            FieldError((path,), "name at least one provider, or leave it out", ErrorCode.REQUIRED)
        ]
    return [
        FieldError(
            (path, str(index)),
            f"{label(provider)} is not configured on this gateway",
            ErrorCode.PROVIDER_NOT_CONFIGURED,
        )
        for index, provider in enumerate(requested)
        if provider not in configured
    ]


def validate_idempotency_key(key: str | None, *, path: str = "idempotencyKey") -> list[FieldError]:
    if key is None:
        return []
    if not key.strip():
        return [FieldError((path,), "must not be blank", ErrorCode.BLANK)]
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        message = f"must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters"
        return [FieldError((path,), message, ErrorCode.INVALID_IDEMPOTENCY_KEY)]
    return []
