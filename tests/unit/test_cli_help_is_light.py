"""--help answers at once: building the command line loads none of the data layer's heavy parts."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "psycopg", "PySide6", "obstore")


def test_the_whole_command_line_builds_without_the_database_libraries() -> None:
    code = (
        "import sys\n"
        "from viewer.cli.parser import build_parser\n"
        "parser = build_parser()\n"
        "parser.format_help()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
