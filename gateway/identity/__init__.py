"""Identity resolution: which provider records are one customer, and what it looks like.

Pure code, no I/O: the gateway fetches records (expanding hop by hop with
:func:`plan_next_hop`), then :func:`resolve` groups them into :class:`MergedCustomer` values whose
public id is :func:`encode_customer_id` of the anchor, honouring an operator's :class:`Override`
decisions (:func:`decide` says which still hold).
"""

from gateway.identity.emails import normalise_email
from gateway.identity.ids import InvalidCustomerId, decode_customer_id, encode_customer_id
from gateway.identity.keys import (
    MatchKey,
    email_key,
    expansion_lookups,
    is_stripe_customer_id,
    plan_next_hop,
    record_keys,
)
from gateway.identity.overrides import Decisions, Override, OverrideKind, decide
from gateway.identity.resolver import MatchEdge, MatchRule, MergedCustomer, assemble, resolve
from gateway.identity.survivorship import (
    DEFAULT_FIELD_PRIORITY,
    FIELDS,
    PROVIDER_PRIORITY,
    Conflict,
    ConflictKind,
    FieldData,
    FieldValue,
    Survivorship,
    survive,
)

__all__ = [
    "DEFAULT_FIELD_PRIORITY",
    "FIELDS",
    "PROVIDER_PRIORITY",
    "Conflict",
    "ConflictKind",
    "Decisions",
    "FieldData",
    "FieldValue",
    "InvalidCustomerId",
    "MatchEdge",
    "MatchKey",
    "MatchRule",
    "MergedCustomer",
    "Override",
    "OverrideKind",
    "Survivorship",
    "assemble",
    "decide",
    "decode_customer_id",
    "email_key",
    "encode_customer_id",
    "expansion_lookups",
    "is_stripe_customer_id",
    "normalise_email",
    "plan_next_hop",
    "record_keys",
    "resolve",
    "survive",
]
