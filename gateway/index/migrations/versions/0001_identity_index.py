"""identity index: records, keys, customers, aliases, edges, conflicts, overrides, sync cursors

Revision ID: 0001
Revises:
Create Date: 2026-12-01

The first schema: exactly gateway/index/tables.py as of this revision (timestamps as plain
``DateTime(timezone=True)``: ``UTCDateTime`` only changes what Python binds and reads).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aliases",
        sa.Column("old_id", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_aliases")),
    )
    op.create_index(op.f("ix_aliases_id"), "aliases", ["id"], unique=False)
    op.create_table(
        "conflicts",
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False, comment="gateway.index.serialise JSON"),
        sa.PrimaryKeyConstraint("customer_id", "position", name=op.f("pk_conflicts")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("minted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.Text(), nullable=True, comment="surviving email, matching form"),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=True, comment="casefolded name"),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("company_key", sa.Text(), nullable=True, comment="casefolded company"),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=255), nullable=True),
        sa.Column("mrr", sa.BigInteger(), nullable=True, comment="minor units"),
        sa.Column("mrr_currency", sa.String(length=3), nullable=True),
        sa.Column("providers", sa.Text(), nullable=False, comment="space-separated, sorted"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_country"), "customers", ["country"], unique=False)
    op.create_index(op.f("ix_customers_created_at"), "customers", ["created_at"], unique=False)
    op.create_index(op.f("ix_customers_mrr"), "customers", ["mrr"], unique=False)
    op.create_index(op.f("ix_customers_name_key"), "customers", ["name_key"], unique=False)
    op.create_index(op.f("ix_customers_status"), "customers", ["status"], unique=False)
    op.create_table(
        "edges",
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("left_provider", sa.String(length=255), nullable=False),
        sa.Column("left_id", sa.String(length=255), nullable=False),
        sa.Column("right_provider", sa.String(length=255), nullable=False),
        sa.Column("right_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "position", name=op.f("pk_edges")),
    )
    op.create_table(
        "override_records",
        sa.Column("override_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("override_id", "position", name=op.f("pk_override_records")),
    )
    op.create_index(
        op.f("ix_override_records_provider_record_id"),
        "override_records",
        ["provider", "record_id"],
        unique=False,
    )
    op.create_table(
        "overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overrides")),
    )
    op.create_index(op.f("ix_overrides_at"), "overrides", ["at"], unique=False)
    op.create_table(
        "record_keys",
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=1020), nullable=False),
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint(
            "namespace", "value", "provider", "record_id", name=op.f("pk_record_keys")
        ),
    )
    op.create_index(
        op.f("ix_record_keys_provider_record_id"),
        "record_keys",
        ["provider", "record_id"],
        unique=False,
    )
    op.create_table(
        "records",
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.Text(), nullable=True, comment="matching form"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False, comment="gateway.index.serialise JSON"),
        sa.PrimaryKeyConstraint("provider", "record_id", name=op.f("pk_records")),
    )
    op.create_index(op.f("ix_records_customer_id"), "records", ["customer_id"], unique=False)
    op.create_index(op.f("ix_records_email"), "records", ["email"], unique=False)
    op.create_table(
        "sync_cursors",
        sa.Column("provider", sa.String(length=255), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "stream", name=op.f("pk_sync_cursors")),
    )


def downgrade() -> None:
    op.drop_table("sync_cursors")
    op.drop_index(op.f("ix_records_email"), table_name="records")
    op.drop_index(op.f("ix_records_customer_id"), table_name="records")
    op.drop_table("records")
    op.drop_index(op.f("ix_record_keys_provider_record_id"), table_name="record_keys")
    op.drop_table("record_keys")
    op.drop_index(op.f("ix_overrides_at"), table_name="overrides")
    op.drop_table("overrides")
    op.drop_index(op.f("ix_override_records_provider_record_id"), table_name="override_records")
    op.drop_table("override_records")
    op.drop_table("edges")
    op.drop_index(op.f("ix_customers_status"), table_name="customers")
    op.drop_index(op.f("ix_customers_name_key"), table_name="customers")
    op.drop_index(op.f("ix_customers_mrr"), table_name="customers")
    op.drop_index(op.f("ix_customers_created_at"), table_name="customers")
    op.drop_index(op.f("ix_customers_country"), table_name="customers")
    op.drop_table("customers")
    op.drop_table("conflicts")
    op.drop_index(op.f("ix_aliases_id"), table_name="aliases")
    op.drop_table("aliases")
