"""validate_optimization() also checks the function the window loads through.

Revision ID: 0007_validate_stream
Revises: 0006_streamed_media
Create Date: 2026-12-03

Revision 0006 moved the window's media load to get_inspection_media_stream(bigint), whose speed
depends on the planner inlining it: a function it does not inline runs to completion into a
tuplestore before the first row leaves the server (for 20,000 photos, 29 ms instead of 1.4 ms
to the first row). Nothing told a DBA when that was lost: a missing function, or one changed by
hand (`ALTER FUNCTION ... SET work_mem`, `STRICT`, `SECURITY DEFINER`, `VOLATILE`, each of
which stops inlining), passed validate_optimization() as before.

validate_optimization() gets one more row, 'function get_inspection_media_stream', after the
batch function's. It asks the planner itself: the plan of a call must not be a Function Scan.
When it is, the detail names the attributes that stop inlining and how to undo them.
validate_optimization() becomes VOLATILE: PostgreSQL allows EXPLAIN only in volatile functions.

The new function is revision 0002's with that check added: 0002 is frozen as released, so its
text is taken from it rather than copied here (a copy of 150 lines would be the same text
twice). The downgrade puts 0002's function back.
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0007_validate_stream"
down_revision = "0006_streamed_media"
branch_labels = None
depends_on = None

# The batch function's check in revision 0002's validate_optimization(); the stream function's
# goes right after it.
AFTER_CHECK = """\
        detail := 'get_inspection_media_batch(bigint) exists';
    END IF;
    RETURN NEXT;
"""

STREAM_CHECK = """
    check_name := 'function get_inspection_media_stream';
    SELECT l.lanname::text AS language, p.provolatile = 'v' AS volatile, p.proisstrict,
           p.prosecdef, p.proconfig
      INTO v_fn
      FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
     WHERE p.oid = to_regprocedure('get_inspection_media_stream(bigint)');
    IF NOT FOUND THEN
        status := 'fail';
        detail := 'missing: run the migrations (alembic upgrade head)';
    ELSE
        BEGIN
            EXECUTE 'EXPLAIN (FORMAT JSON) SELECT * FROM get_inspection_media_stream(0)'
               INTO v_plan;
        EXCEPTION WHEN insufficient_privilege THEN
            v_plan := NULL;
        END;
        IF v_plan IS NULL THEN
            status := 'fail';
            detail := format('%s may not call it or read the tables it reads: GRANT EXECUTE '
                             'and SELECT on media and checklist_items, or run the check as '
                             'the role the app uses', current_user);
        ELSIF strpos(v_plan::text, '"Function Scan"') = 0 THEN
            status := 'pass';
            detail := 'inlined by the planner: the first rows leave before the last are read';
        ELSE
            status := 'fail';
            detail := format(
                'not inlined by the planner (%s), so each load waits for its last row: '
                'ALTER FUNCTION get_inspection_media_stream(bigint) STABLE CALLED ON NULL '
                'INPUT SECURITY INVOKER RESET ALL',
                coalesce(nullif(concat_ws(', ',
                    CASE WHEN v_fn.language <> 'sql' THEN 'LANGUAGE ' || v_fn.language END,
                    CASE WHEN v_fn.volatile THEN 'VOLATILE' END,
                    CASE WHEN v_fn.proisstrict THEN 'STRICT' END,
                    CASE WHEN v_fn.prosecdef THEN 'SECURITY DEFINER' END,
                    CASE WHEN v_fn.proconfig IS NOT NULL
                         THEN 'SET ' || array_to_string(v_fn.proconfig, ', ') END), ''),
                    'its body or this role''s rights changed'));
        END IF;
    END IF;
    RETURN NEXT;
"""

# Declared beside 0002's own variables.
AFTER_DECLARATION = "    v_last timestamptz;\n"
NEW_DECLARATIONS = "    v_fn record;\n    v_plan json;\n"
# PostgreSQL runs EXPLAIN only in a VOLATILE function; the check still writes nothing, and runs
# in a read-only transaction as before.
STABLE, VOLATILE = "LANGUAGE plpgsql STABLE\n", "LANGUAGE plpgsql VOLATILE\n"


def _revision_0002_function() -> str:
    revision_0002 = importlib.import_module("migrations.versions.0002_performance_v1")
    sql: str = revision_0002._validate_function_sql()
    return sql


def _with_stream_check(sql: str) -> str:
    for anchor in (AFTER_CHECK, AFTER_DECLARATION, STABLE):
        if sql.count(anchor) != 1:  # pragma: no cover - 0002 is frozen; a test runs this
            raise RuntimeError(f"revision 0002's validate_optimization() changed: {anchor!r}")
    sql = sql.replace(STABLE, VOLATILE)
    sql = sql.replace(AFTER_DECLARATION, AFTER_DECLARATION + NEW_DECLARATIONS)
    return sql.replace(AFTER_CHECK, AFTER_CHECK + STREAM_CHECK)


def upgrade() -> None:
    op.execute(_with_stream_check(_revision_0002_function()))


def downgrade() -> None:
    op.execute(_revision_0002_function())
