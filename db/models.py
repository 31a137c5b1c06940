"""Typed SQLAlchemy models of the schema. Queries turn rows into frozen dataclasses (db.records)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The list of states lives with the records (no SQLAlchemy there); re-exported here.
from db.records import InspectionStatus as InspectionStatus

# Stable constraint names, so migrations and downgrades can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ItemResult(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NA = "na"
    PENDING = "pending"


def _in_list(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# Reusable column types (pypi/warehouse utils/db/types.py).
bigint_pk = Annotated[int, mapped_column(BigInteger, Identity(always=False), primary_key=True)]
timestamp = Annotated[datetime, mapped_column(DateTime(timezone=True))]
created_ts = Annotated[
    datetime, mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Inspection(Base):
    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(_in_list("status", InspectionStatus), name="status"),
        CheckConstraint(
            "completed_at IS NULL OR status IN ('completed', 'archived')",
            name="completed_at_status",
        ),
    )

    id: Mapped[bigint_pk]
    reference_code: Mapped[str] = mapped_column(String(32), unique=True)
    site_name: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(Text)
    inspector_name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=InspectionStatus.DRAFT.value)
    scheduled_at: Mapped[timestamp]
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_ts]
    updated_at: Mapped[created_ts]

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="inspection", order_by="ChecklistItem.position", passive_deletes=True
    )


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (CheckConstraint(_in_list("result", ItemResult), name="result"),)

    id: Mapped[bigint_pk]
    inspection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.id", ondelete="CASCADE")
    )
    section: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(16), server_default=ItemResult.PENDING.value)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[created_ts]

    inspection: Mapped[Inspection] = relationship(back_populates="items")
    # lazy="select" is the ORM default and the N+1 pattern this product replaces; the benchmark
    # measures it on purpose. App code never touches this relationship.
    media: Mapped[list[Media]] = relationship(
        back_populates="checklist_item",
        order_by="(Media.captured_at, Media.id)",
        primaryjoin="and_(ChecklistItem.id == Media.checklist_item_id, Media.deleted_at.is_(None))",
        viewonly=True,
    )


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="dimensions"),
        CheckConstraint("byte_size >= 0", name="byte_size"),
        CheckConstraint(
            "storage_key <> '' AND storage_key NOT LIKE '/%' AND position('..' IN storage_key) = 0",
            name="relative_key",
        ),
    )

    id: Mapped[bigint_pk]
    inspection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.id", ondelete="CASCADE")
    )
    checklist_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("checklist_items.id", ondelete="CASCADE")
    )
    storage_key: Mapped[str] = mapped_column(Text)
    mime_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    caption: Mapped[str | None] = mapped_column(Text)
    captured_at: Mapped[timestamp]
    created_at: Mapped[created_ts]
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    checklist_item: Mapped[ChecklistItem] = relationship(back_populates="media", viewonly=True)


class DatabaseIdentity(Base):
    """One row: this database's random id, recorded in bundles at export (revision 0004)."""

    __tablename__ = "database_identity"

    singleton: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default="true")
    id: Mapped[uuid.UUID] = mapped_column(Uuid, server_default=func.gen_random_uuid())
    created_at: Mapped[created_ts]


class Review(Base):
    """A reviewer's verdict, flag or decision: append-only, the newest per target counts
    (revision 0004 spells out its constraints and the trigger that refuses UPDATE)."""

    __tablename__ = "review_records"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    inspection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inspections.id", ondelete="CASCADE")
    )
    checklist_item_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("checklist_items.id", ondelete="CASCADE")
    )
    media_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("media.id", ondelete="CASCADE")
    )
    value: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[timestamp]
    recorded_at: Mapped[created_ts]
    origin: Mapped[str] = mapped_column(String(16), server_default="online")
    conflict_with: Mapped[uuid.UUID | None] = mapped_column(Uuid)
