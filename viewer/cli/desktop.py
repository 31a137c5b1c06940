"""`desktop install|uninstall`: the launcher entry, the icon and the bundle file type in the
user's own XDG folders, so a double-click on a .ivbundle in a file manager opens it.

Files only (no Qt): the .desktop entry in XDG_DATA_HOME/applications, the icon in the hicolor
theme, a shared-mime-info type for *.ivbundle, and the default application for that type in
XDG_CONFIG_HOME/mimeapps.list. The desktop's own caches are refreshed with
update-mime-database and update-desktop-database where they are installed.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from db.config import os_error_text
from db.errors import KnownError
from db.files import write_atomic
from db.offline.format import BUNDLE_SUFFIX
from viewer.cli.context import Context
from viewer.cli.options import PROG, Subparsers
from viewer.console import out
from viewer.resources import DESKTOP_ENTRY, ICON, resource

log = logging.getLogger(__name__)

MIME_TYPE = "application/x-inspection-bundle"
ICON_NAME = "inspection-viewer"
DEFAULTS_SECTION = "[Default Applications]"
TOOL_SECONDS = 30
PUBLIC = 0o644  # as the desktop's own files are
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>Inspection bundle</comment>
    <sub-class-of type="application/zip"/>
    <generic-icon name="{ICON_NAME}"/>
    <glob pattern="*{BUNDLE_SUFFIX}"/>
  </mime-type>
</mime-info>
"""


def add_parser(sub: Subparsers, parents: list[argparse.ArgumentParser]) -> None:
    desktop = sub.add_parser(
        "desktop",
        parents=parents,
        help="add the app to the desktop's menus and open .ivbundle files with it",
        description="Install (or remove) the launcher entry, the icon and the "
        f"{BUNDLE_SUFFIX} file type in your own folders (XDG_DATA_HOME, XDG_CONFIG_HOME); "
        "nothing system-wide, no root needed.",
    )
    desktop.add_argument(
        "action",
        choices=["install", "uninstall"],
        help="install: add or update the entry, icon and file type; uninstall: remove them",
    )
    desktop.set_defaults(handler=run)


@dataclass(frozen=True)
class DesktopFiles:
    """Where the files go, from the XDG variables (platformdirs reads them)."""

    data_home: Path
    config_home: Path

    @classmethod
    def for_user(cls) -> DesktopFiles:
        return cls(Path(platformdirs.user_data_dir()), Path(platformdirs.user_config_dir()))

    @property
    def entry(self) -> Path:
        return self.data_home / "applications" / DESKTOP_ENTRY

    @property
    def icon(self) -> Path:
        return self.data_home / "icons/hicolor/256x256/apps" / f"{ICON_NAME}.png"

    @property
    def mime_package(self) -> Path:
        return self.data_home / "mime/packages" / f"{ICON_NAME}.xml"

    @property
    def mimeapps(self) -> Path:
        return self.config_home / "mimeapps.list"


def run(args: argparse.Namespace, ctx: Context) -> int:
    files = DesktopFiles.for_user()
    try:
        if args.action == "install":
            install(files, launcher_command())
            out.print(f"Installed {files.entry} (opens {BUNDLE_SUFFIX} files)", markup=False)
        else:
            uninstall(files)
            out.print(f"Removed {PROG} from the desktop's menus and file types", markup=False)
    except OSError as exc:
        raise KnownError(
            f"desktop {args.action} failed: {os_error_text(exc, files.entry)}"
        ) from exc
    return 0


def launcher_command() -> str:
    """The command a launcher runs: this installation's own script, found beside the Python
    that runs now (a venv need not be on the desktop session's PATH)."""
    script = Path(sys.executable).parent / PROG
    path = str(script) if script.is_file() else (shutil.which(PROG) or PROG)
    if re.fullmatch(r"[\w/.+-]+", path):
        return path
    # Desktop Entry spec: a quoted argument escapes ", `, $ and \ with a backslash.
    return '"' + re.sub(r'(["`$\\])', r"\\\1", path) + '"'


def desktop_entry(command: str) -> str:
    """The packaged entry with this installation's command and the bundle file type."""
    lines = []
    for line in resource(DESKTOP_ENTRY).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command} open %f"
        lines.append(line)
    lines.append(f"MimeType={MIME_TYPE};")
    return "\n".join(lines) + "\n"


def install(files: DesktopFiles, command: str) -> None:
    write_atomic(files.entry, desktop_entry(command).encode(), mode=PUBLIC)
    write_atomic(files.icon, resource(ICON).read_bytes(), mode=PUBLIC)
    write_atomic(files.mime_package, MIME_XML.encode(), mode=PUBLIC)
    set_default(files.mimeapps, DESKTOP_ENTRY)
    refresh_caches(files)
    log.info("desktop entry, icon and %s installed under %s", MIME_TYPE, files.data_home)


def uninstall(files: DesktopFiles) -> None:
    for path in (files.entry, files.icon, files.mime_package):
        path.unlink(missing_ok=True)
    set_default(files.mimeapps, None)
    refresh_caches(files)
    log.info("desktop entry, icon and %s removed from %s", MIME_TYPE, files.data_home)


def set_default(mimeapps: Path, entry: str | None) -> None:
    """Our type's line in [Default Applications]: set to `entry`, or removed (None). Every
    other line stays as it was."""
    lines = mimeapps.read_text(encoding="utf-8").splitlines() if mimeapps.exists() else []
    kept = [line for line in lines if not line.startswith(f"{MIME_TYPE}=")]
    if entry is not None:
        if DEFAULTS_SECTION not in kept:
            kept += ([""] if kept else []) + [DEFAULTS_SECTION]
        kept.insert(kept.index(DEFAULTS_SECTION) + 1, f"{MIME_TYPE}={entry}")
    if kept != lines:
        write_atomic(mimeapps, ("\n".join(kept) + "\n").encode(), mode=PUBLIC)


def refresh_caches(files: DesktopFiles) -> None:
    """The desktop reads caches built from these folders; their tools are optional."""
    for tool, folder in (
        ("update-mime-database", files.data_home / "mime"),
        ("update-desktop-database", files.data_home / "applications"),
    ):
        if shutil.which(tool) is None or not folder.is_dir():
            log.info("%s not run (%s)", tool, "not installed" if folder.is_dir() else "no folder")
            continue
        done = subprocess.run(
            [tool, str(folder)], capture_output=True, text=True, timeout=TOOL_SECONDS, check=False
        )
        if done.returncode != 0:
            log.warning("%s %s failed: %s", tool, folder, done.stderr.strip()[:500])
