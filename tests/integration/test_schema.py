"""The schema revision creates the three tables with their constraints."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from db.migrate import current_revision, head_revision, upgrade


def test_upgrade_to_head_records_the_head_revision(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    assert {"inspections", "checklist_items", "media"} <= set(
        inspect(fresh_engine).get_table_names()
    )


def test_status_outside_the_enumeration_is_rejected(db_conn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError):
        db_conn.execute(
            text(
                "INSERT INTO inspections (reference_code, site_name, address, inspector_name,"
                " status, scheduled_at) VALUES ('X-1', 's', 'a', 'i', 'lost', now())"
            )
        )
