"""The gateway's public customer id: opaque, stable, and reversible to its anchor record.

``cgw_`` + unpadded URL-safe base64 of ``cust:v1:<provider>:<id>``. Opaque so clients do not
parse it; versioned so the format can change; reversible so the gateway can find the customer
again from the anchor without storing anything. Decoding is strict (canonical base64 only,
known provider, non-empty id): one customer has exactly one valid id string.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from gateway.model import RecordRef
from gateway.providers.registry import PROVIDERS

__all__ = ["PREFIX", "InvalidCustomerId", "decode_customer_id", "encode_customer_id"]

PREFIX: Final = "cgw_"
_VERSION: Final = "cust:v1:"
_MAX_LENGTH: Final = 2048
_URLSAFE: Final = re.compile(r"[A-Za-z0-9_-]+")


class InvalidCustomerId(ValueError):
    """A customer id that this gateway did not issue; the message says what is wrong."""


def _check(provider: str, record_id: str) -> None:
    if provider not in PROVIDERS:
        raise InvalidCustomerId(f"customer id names an unknown provider {provider!r}")
    if not record_id:
        raise InvalidCustomerId("customer id has an empty record id")


def encode_customer_id(anchor: RecordRef) -> str:
    """The public id of the customer anchored at ``anchor``."""
    _check(anchor.provider, anchor.id)
    payload = f"{_VERSION}{anchor.provider}:{anchor.id}".encode()
    return PREFIX + base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_customer_id(value: str) -> RecordRef:
    """The anchor a public id names; :class:`InvalidCustomerId` for anything malformed."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        raise InvalidCustomerId(f"customer id must start with {PREFIX!r}")
    if len(value) > _MAX_LENGTH:
        raise InvalidCustomerId(f"customer id is longer than {_MAX_LENGTH} characters")
    body = value[len(PREFIX) :]
    if not _URLSAFE.fullmatch(body):
        raise InvalidCustomerId("customer id is not URL-safe base64 after the prefix")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCustomerId("customer id is not valid base64-encoded text") from exc
    if not payload.startswith(_VERSION):
        raise InvalidCustomerId("customer id has an unknown format version")
    provider, colon, record_id = payload[len(_VERSION) :].partition(":")
    if not colon:
        raise InvalidCustomerId("customer id has no record id")
    _check(provider, record_id)
    ref = RecordRef(provider, record_id)
    if encode_customer_id(ref) != value:  # e.g. stray bits in the last base64 character
        raise InvalidCustomerId("customer id is not in canonical form")
    return ref
