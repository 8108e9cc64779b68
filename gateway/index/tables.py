"""The identity index's schema, as SQLAlchemy Core tables (one definition for both backends).

The first Alembic revision creates exactly these tables; later schema changes are new revisions
(gateway/index/migrations/versions), never edits here alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "METADATA",
    "UTCDateTime",
    "aliases",
    "conflicts",
    "customers",
    "edges",
    "override_records",
    "overrides",
    "record_keys",
    "records",
    "sync_cursors",
]

METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_ID = 255
"""Ids, providers and namespaces fit in this (PostgreSQL does not care; it documents intent)."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back aware: SQLite keeps no zone, so values are
    stored there as naive UTC text (which also sorts correctly)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


records = sa.Table(
    "records",
    METADATA,
    sa.Column("provider", sa.String(_ID), primary_key=True),
    sa.Column("record_id", sa.String(_ID), primary_key=True),
    sa.Column("customer_id", sa.String(_ID), nullable=True, index=True),
    sa.Column("email", sa.Text, nullable=True, index=True, comment="matching form"),
    sa.Column("created_at", UTCDateTime, nullable=True),
    sa.Column("observed_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("snapshot", sa.Text, nullable=False, comment="gateway.index.serialise JSON"),
)

record_keys = sa.Table(
    "record_keys",
    METADATA,
    sa.Column("namespace", sa.String(_ID), primary_key=True),
    sa.Column("value", sa.String(_ID * 4), primary_key=True),
    sa.Column("provider", sa.String(_ID), primary_key=True),
    sa.Column("record_id", sa.String(_ID), primary_key=True),
    sa.Index(None, "provider", "record_id"),
)

customers = sa.Table(
    "customers",
    METADATA,
    sa.Column("id", sa.String(_ID), primary_key=True),
    sa.Column("minted_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=True, index=True),
    sa.Column("synced_at", UTCDateTime, nullable=False),
    sa.Column("email", sa.Text, nullable=True, comment="surviving email, matching form"),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("name_key", sa.Text, nullable=True, index=True, comment="casefolded name"),
    sa.Column("company", sa.Text, nullable=True),
    sa.Column("company_key", sa.Text, nullable=True, comment="casefolded company"),
    sa.Column("country", sa.String(2), nullable=True, index=True),
    sa.Column("status", sa.String(_ID), nullable=True, index=True),
    sa.Column("mrr", sa.BigInteger, nullable=True, index=True, comment="minor units"),
    sa.Column("mrr_currency", sa.String(3), nullable=True),
    sa.Column("providers", sa.Text, nullable=False, comment="space-separated, sorted"),
)

aliases = sa.Table(
    "aliases",
    METADATA,
    sa.Column("old_id", sa.String(_ID), primary_key=True),
    sa.Column("id", sa.String(_ID), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
)

edges = sa.Table(
    "edges",
    METADATA,
    sa.Column("customer_id", sa.String(_ID), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("rule", sa.String(32), nullable=False),
    sa.Column("namespace", sa.String(_ID), nullable=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("left_provider", sa.String(_ID), nullable=False),
    sa.Column("left_id", sa.String(_ID), nullable=False),
    sa.Column("right_provider", sa.String(_ID), nullable=False),
    sa.Column("right_id", sa.String(_ID), nullable=False),
)

conflicts = sa.Table(
    "conflicts",
    METADATA,
    sa.Column("customer_id", sa.String(_ID), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("data", sa.Text, nullable=False, comment="gateway.index.serialise JSON"),
)

overrides = sa.Table(
    "overrides",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
)

override_records = sa.Table(
    "override_records",
    METADATA,
    sa.Column("override_id", sa.Integer, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("provider", sa.String(_ID), nullable=False),
    sa.Column("record_id", sa.String(_ID), nullable=False),
    sa.Index(None, "provider", "record_id"),
)

sync_cursors = sa.Table(
    "sync_cursors",
    METADATA,
    sa.Column("provider", sa.String(_ID), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),
    sa.Column("position", sa.Text, nullable=True),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("records", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
