"""Where reports go: one file for all inspections (--out) or one per inspection (--out-dir),
checked before any work is done, and the job that writes them all."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from db.config import os_error_text
from db.errors import ConfigError, KnownError
from db.progress import ProgressCallback
from db.storage import MediaStore
from viewer.report.content import PhotoChoice, ReportInspection
from viewer.report.render import ReportSummary, write_report

PDF_SUFFIX = ".pdf"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# Writes the planned reports, given the progress callback and the cancel flag (in a worker).
ReportJob = Callable[[ProgressCallback, threading.Event], list[ReportSummary]]


@dataclass(frozen=True)
class ReportTarget:
    """One PDF file and the inspections it holds, in order."""

    path: Path
    inspections: tuple[ReportInspection, ...]


def check_out_file(text: str) -> Path:
    """--out: a .pdf file in a folder that exists and can be written."""
    path = Path(text).expanduser().resolve()
    if path.suffix.lower() != PDF_SUFFIX:
        raise ConfigError(f"--out: a report file name ends in {PDF_SUFFIX}")
    if path.is_dir():
        raise ConfigError(f"--out: {path} is a folder (use --out-dir for one file each)")
    _check_writable_folder(path.parent, "--out")
    return path


def check_out_dir(text: str) -> Path:
    """--out-dir: a folder that can be written (made if missing)."""
    folder = Path(text).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out-dir: {folder} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out-dir: {os_error_text(exc, folder)}") from exc
    _check_writable_folder(folder, "--out-dir")
    return folder


def _check_writable_folder(folder: Path, option: str) -> None:
    if not folder.is_dir():
        raise ConfigError(f"{option}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{option}: folder {folder} cannot be written")


def file_name(inspection: ReportInspection, taken: set[str]) -> str:
    """`<reference>.pdf`, made safe for any file system and unique among `taken`."""
    stem = _UNSAFE.sub("_", inspection.reference).strip("._")[:80] or "inspection"
    name = f"{stem}{PDF_SUFFIX}"
    if name.lower() in taken:
        name = f"{stem}-{inspection.summary.id}{PDF_SUFFIX}"
    taken.add(name.lower())
    return name


def plan_targets(
    inspections: Sequence[ReportInspection], *, out: Path | None, out_dir: Path | None
) -> list[ReportTarget]:
    if (out is None) == (out_dir is None):
        raise ConfigError("give either --out FILE.pdf or --out-dir DIR")
    if out is not None:
        return [ReportTarget(out, tuple(inspections))]
    assert out_dir is not None
    taken: set[str] = set()
    return [ReportTarget(out_dir / file_name(i, taken), (i,)) for i in inspections]


def report_job(
    targets: Sequence[ReportTarget], store: MediaStore, choice: PhotoChoice, workers: int = 2
) -> ReportJob:
    """The job that writes `targets` one after another; a file already written stays."""

    def run(progress: ProgressCallback, cancel: threading.Event) -> list[ReportSummary]:
        written = []
        for target in targets:
            try:
                written.append(
                    write_report(
                        target.path,
                        target.inspections,
                        store,
                        choice,
                        progress=_labelled(progress, target, len(targets)),
                        cancel=cancel,
                        workers=workers,
                    )
                )
            except OSError as exc:  # writing the file: a full disk is the likely one
                raise KnownError(
                    f"the report was not written: {os_error_text(exc, target.path)}"
                ) from exc
        return written

    return run


def _labelled(progress: ProgressCallback, target: ReportTarget, files: int) -> ProgressCallback:
    if files == 1:
        return progress
    name = target.path.name

    def report(phase: str, done: int, total: int) -> None:
        progress(f"{phase}: {name}", done, total)

    return report
