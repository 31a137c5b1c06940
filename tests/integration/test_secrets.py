"""No password is ever shown: the real command line is given a known one in every URL form, and
everything it prints or writes is searched for it (issue 12, item 5).

The session's embedded server trusts local connections, so it ignores the password: each form
reaches the same database, and each command goes as far as it would on a team's server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import URL

from db.config import parse_database_url
from db.demo import BAD_MEDIA_INSPECTION_REFERENCE
from db.engine import DatabaseTarget
from viewer.cli import main

REPO = Path(__file__).resolve().parents[2]
SECRET = "S3cretPW"
# Every form holds "retPW"; the '@' forms split the password there, and a tail is a leak too.
PIECES = ("retPW", "S3cret", "S3c@", "S3c%40")
# Bundle entries that are photos: random bytes, not text a password could be written into.
PHOTO_ENTRIES = ("media/", "thumbnails/")


def url_forms(url: URL) -> dict[str, str]:
    """A database of the session server, in each form a user may give a password in."""
    where = f"/{url.database}?host={quote(str(url.query['host']), safe='')}"
    return {
        "user:password@": f"postgresql://postgres:{SECRET}@{where}",
        "?password=": f"postgresql://postgres@{where}&password={SECRET}",
        "?sslpassword=": f"postgres://postgres@{where}&sslpassword={SECRET}",
        "both": f"postgresql+psycopg://postgres:{SECRET}@{where}&password={SECRET}",
        "'@' encoded": f"postgresql://postgres:S3c%40retPW@{where}",
        "'@' as typed": f"postgresql://postgres:S3c@retPW@{where}",
    }


# Forms that never reach a server: a refusal or a failure must not show the password either.
FAILING_FORMS = {
    "libpq keywords": f"host=/nonexistent dbname=insp user=u password={SECRET}",
    "'@' as typed, nothing listening": "postgresql://u:S3c@retPW@127.0.0.1:1/insp",
    "?PASSWORD=, nothing listening": f"postgresql://u@127.0.0.1:1/insp?PASSWORD={SECRET}",
    "malformed": f"postgresql://alice:{SECRET}@[::1/x",
}


def assert_no_secret(where: str, data: str | bytes) -> None:
    raw = data.encode() if isinstance(data, str) else data
    for piece in PIECES:
        at = raw.find(piece.encode())
        assert at < 0, f"{where} shows the password: ...{raw[max(0, at - 60) : at + 20]!r}..."


def files_under(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every file below `folder` (logs, audit reports, settings, bundles entry by entry)."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if not name.startswith(PHOTO_ENTRIES):
                        yield f"{path}!{name}", zf.read(name)
        else:
            yield str(path), path.read_bytes()


def assert_no_secret_in_files(folder: Path) -> int:
    count = 0
    for name, data in files_under(folder):
        assert_no_secret(name, data)
        count += 1
    return count


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """main() in this process; returns the exit code and stdout + stderr, already searched."""

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        assert_no_secret(f"the output of {args[-3:]}", captured.out + captured.err)
        return code, captured.out + captured.err

    return run


@pytest.mark.parametrize("form", list(url_forms(URL.create("x", query={"host": "/"}))))
def test_no_command_shows_the_password(  # type: ignore[no-untyped-def]
    form: str, create_database, run_cli, tmp_path: Path
) -> None:
    raw = url_forms(create_database("secret"))[form]
    data = tmp_path / "data"
    common = ("--database-url", raw, "--data-dir", str(data))
    code, shown = run_cli(*common, "db", "url")
    assert code == 0 and "***" in shown
    assert run_cli(*common, "-vv", "db", "status")[0] == 0
    code, shown = run_cli(*common, "db", "upgrade")
    assert code == 0 and "Rollback: inspection-viewer --database-url 'postgresql://" in shown
    code, shown = run_cli(*common, "db", "downgrade", "-1")
    assert code == 0 and "Rollback:" in shown
    assert run_cli(*common, "db", "upgrade")[0] == 0
    assert run_cli(*common, "db", "validate")[0] in (0, 1)
    code, shown = run_cli(*common, "db", "upgrade", "nonsense")
    assert code == 2
    code, _ = run_cli(
        *common, "export", "--status", "completed", "--out", str(tmp_path / "x.ivbundle")
    )
    assert code == 1  # an empty database: nothing to export
    # The status bar shows DatabaseTarget.display.
    assert_no_secret("the status bar", DatabaseTarget(parse_database_url(raw), False).display)
    assert len(list((data / "reports").glob("*.json"))) == 4
    assert (data / "logs" / "inspection-viewer.log").is_file()
    assert assert_no_secret_in_files(data) >= 9


@pytest.mark.parametrize("form", list(FAILING_FORMS))
def test_a_refused_or_unreachable_url_does_not_show_the_password(
    form: str, run_cli: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    common = ("--database-url", FAILING_FORMS[form], "--data-dir", str(data))
    code, shown = run_cli(*common, "db", "status")
    assert code in (1, 2) and shown.strip().count("\n") == 0, shown
    assert run_cli(*common, "db", "url")[0] in (0, 2)
    assert_no_secret_in_files(data)


def test_an_exported_bundle_does_not_carry_the_password(  # type: ignore[no-untyped-def]
    demo_db, run_cli, tmp_path: Path
) -> None:
    forms = url_forms(demo_db.engine.url)
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for i, raw in enumerate(forms.values()):
        out = bundles / f"b{i}.ivbundle"
        code, _ = run_cli(
            "--database-url",
            raw,
            "--data-dir",
            str(tmp_path / "data"),
            "--media-root",
            str(demo_db.media_dir),
            "export",
            "--inspection",
            BAD_MEDIA_INSPECTION_REFERENCE,
            "--no-thumbnails",
            "--out",
            str(out),
        )
        assert code == 0
        with zipfile.ZipFile(out) as zf:
            manifest = json.loads(zf.read("manifest.json"))
        assert "***" in json.dumps(manifest) or "postgres@" in json.dumps(manifest)
    assert assert_no_secret_in_files(bundles) >= 2 * len(forms)
    assert_no_secret_in_files(tmp_path / "data")


def test_the_window_its_settings_and_its_log_do_not_show_the_password(  # type: ignore[no-untyped-def]
    demo_db, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "viewer",
            "-v",
            "--database-url",
            url_forms(demo_db.engine.url)["?password="],
            "--media-root",
            str(demo_db.media_dir),
            "--data-dir",
            str(data),
            "--screenshot",
            str(tmp_path / "main.png"),
        ],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert_no_secret("the window's output", proc.stdout + proc.stderr)
    assert (data / "settings.ini").is_file()
    assert assert_no_secret_in_files(data) >= 2


def test_the_performance_panel_json_does_not_show_the_password(demo_db) -> None:  # type: ignore[no-untyped-def]
    from db.diagnostics import Collector, engine_server_report, snapshot
    from db.engine import make_async_engine
    from db.metrics import QueryMetrics

    async def report_json(raw: str) -> str:
        metrics = QueryMetrics()
        engine = make_async_engine(parse_database_url(raw))
        try:
            server = await engine_server_report(engine, metrics)
        finally:
            await engine.dispose()
        return json.dumps(snapshot(Collector(metrics).collect(server=server)))

    raws = [
        *url_forms(demo_db.engine.url).values(),
        FAILING_FORMS["'@' as typed, nothing listening"],
    ]
    for raw in raws:
        assert_no_secret(f"the panel's JSON for {raw}", asyncio.run(report_json(raw)))
