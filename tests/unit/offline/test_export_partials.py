"""An export killed with SIGKILL cannot remove its temporary file: the next export into the
folder does, and only files of our own naming that no live export holds."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.offline import remove_stale_partials

REPO = Path(__file__).resolve().parents[3]

# A process that starts an export's temporary file, says its name, then is killed (or waits).
_START_EXPORT = """
import os, signal, sys
from pathlib import Path
from db.offline.export import _create_partial
partial = _create_partial(Path(sys.argv[1]))
os.write(partial.fd, b"PK\\x03\\x04 half a bundle")
print(partial.path, flush=True)
if sys.argv[2] == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()
"""


def _start(out: Path, then: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _START_EXPORT, str(out), then],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    assert ready, "the export process did not start in 60 s"
    return proc, Path(proc.stdout.readline().strip())


@pytest.fixture
def live_export(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    proc, partial = _start(tmp_path / "live.ivbundle", "wait")
    try:
        yield proc, partial
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(60)


def test_a_killed_export_s_file_is_removed_and_a_live_one_s_kept(
    tmp_path: Path, live_export: tuple[subprocess.Popen[str], Path]
) -> None:
    killed, stale = _start(tmp_path / "site-visit.ivbundle", "kill")
    assert killed.wait(60) == -signal.SIGKILL
    assert stale.is_file() and stale.name.startswith(".site-visit.ivbundle.")
    _, live = live_export

    assert remove_stale_partials(tmp_path) == [stale]
    assert not stale.exists()
    assert live.is_file(), "an export in progress keeps its file"


def test_the_file_of_an_export_that_ended_without_cleaning_up_is_removed_next_time(
    tmp_path: Path,
) -> None:
    proc, partial = _start(tmp_path / "a.ivbundle", "wait")
    assert remove_stale_partials(tmp_path) == []
    assert proc.stdin is not None
    proc.stdin.close()  # the process ends without removing its file (as a crash would)
    assert proc.wait(60) == 0
    assert partial.is_file()
    assert remove_stale_partials(tmp_path) == [partial]


def test_files_not_of_our_naming_are_left_alone(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "precious.txt"
    target.write_text("keep me")
    others = [
        ".notes.txt.0123456789ab.partial",  # not a bundle's
        ".a.ivbundle.partial",  # no token
        ".a.ivbundle.0123456789AB.partial.bak",
        "a.ivbundle.0123456789ab.partial",  # not hidden
        "a.ivbundle",  # a finished bundle
    ]
    for name in others:
        (tmp_path / name).write_bytes(b"data")
    link = tmp_path / ".b.ivbundle.0123456789ab.partial"
    link.symlink_to(target)
    folder = tmp_path / ".c.ivbundle.0123456789ab.partial"
    folder.mkdir()

    assert remove_stale_partials(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*others, link.name, folder.name, "outside"]
    )
    assert target.read_text() == "keep me"


def test_a_folder_that_cannot_be_listed_removes_nothing(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "nowhere") == []


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root")
def test_another_user_s_file_is_left_alone(tmp_path: Path) -> None:
    theirs = tmp_path / ".a.ivbundle.0123456789ab.partial"
    theirs.write_bytes(b"PK")
    os.chown(theirs, 12345, 12345)
    assert remove_stale_partials(tmp_path) == []
    assert theirs.exists()
