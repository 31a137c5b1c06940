"""Schema: inspections, checklist items and media.

Revision ID: 0001_schema
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_schema"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("reference_code", sa.String(32), nullable=False),
        sa.Column("site_name", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("inspector_name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("scheduled_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_inspections"),
        sa.UniqueConstraint("reference_code", name="uq_inspections_reference_code"),
        sa.CheckConstraint(
            "status IN ('draft', 'in_progress', 'completed', 'archived')",
            name="ck_inspections_status",
        ),
        sa.CheckConstraint(
            "completed_at IS NULL OR status IN ('completed', 'archived')",
            name="ck_inspections_completed_at_status",
        ),
    )
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("inspection_id", sa.BigInteger, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("result", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("notes", sa.Text),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_checklist_items"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            ondelete="CASCADE",
            name="fk_checklist_items_inspection_id_inspections",
        ),
        sa.CheckConstraint(
            "result IN ('pass', 'fail', 'na', 'pending')", name="ck_checklist_items_result"
        ),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), primary_key=True),
        sa.Column("inspection_id", sa.BigInteger, nullable=False),
        sa.Column("checklist_item_id", sa.BigInteger, nullable=False),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("byte_size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("caption", sa.Text),
        sa.Column("captured_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_media"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            ondelete="CASCADE",
            name="fk_media_inspection_id_inspections",
        ),
        sa.ForeignKeyConstraint(
            ["checklist_item_id"],
            ["checklist_items.id"],
            ondelete="CASCADE",
            name="fk_media_checklist_item_id_checklist_items",
        ),
        sa.CheckConstraint("width > 0 AND height > 0", name="ck_media_dimensions"),
        sa.CheckConstraint("byte_size >= 0", name="ck_media_byte_size"),
        sa.CheckConstraint(
            "storage_key <> '' AND storage_key NOT LIKE '/%' AND position('..' IN storage_key) = 0",
            name="ck_media_relative_key",
        ),
    )


def downgrade() -> None:
    op.drop_table("media")
    op.drop_table("checklist_items")
    op.drop_table("inspections")
