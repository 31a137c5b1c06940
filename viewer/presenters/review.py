"""Review in the window: verdicts, flags and decisions recorded through the DataSource.

The review state of the selected inspection is one statement (an action of its own in the
performance panel) beside the media batch; every record is appended through
`DataSource.record_review` (the database, or an opened bundle's journal) and shown at once
without a reload. Latest wins: a state that arrives for an inspection no longer selected is
dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox

from db.errors import user_message
from db.metrics import QueryMetrics
from db.offline import BUNDLE_SUFFIX
from db.records import InspectionMedia, InspectionSummary, Scope, ScopeKind
from db.review.records import LABELS, REVIEWER_MAX_CHARS, ReviewKind, ReviewRecord, ReviewState
from viewer.presenters.session import DataSource
from viewer.presenters.tasks import TaskSet
from viewer.widgets.main_window import MainWindow
from viewer.widgets.media_viewer import MediaViewer
from viewer.widgets.panes.checklist import ChecklistPane
from viewer.widgets.panes.review import ReviewPane

log = logging.getLogger(__name__)
REVIEWER_KEY = "review/reviewer"


class ReviewPresenter(QObject):
    """Wires the review controls of one window to its DataSource."""

    def __init__(
        self,
        window: MainWindow,
        metrics: QueryMetrics,
        tasks: TaskSet,
        media_of: Callable[[], InspectionMedia | None],
        first_rows_shown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.metrics = metrics
        self.tasks = tasks
        self._media_of = media_of
        # The selection's photos go first: the review state's statement waits for the grid's
        # first rows (SelectionLoader.first_rows_shown).
        self._first_rows_shown = first_rows_shown
        self.source: DataSource | None = None
        self.inspection: InspectionSummary | None = None
        self.state: ReviewState | None = None
        self.item_id: int | None = None
        self.filter = "all"
        self.viewer: MediaViewer | None = None
        self.writing: list[ReviewRecord] = []  # shown already, still on their way
        pane = window.findChild(ReviewPane, "reviewPane")
        checklist = window.findChild(ChecklistPane)
        assert isinstance(pane, ReviewPane) and isinstance(checklist, ChecklistPane)
        self.pane, self.checklist_pane = pane, checklist
        window.inspection_selected.connect(self.select)
        window.scope_selected.connect(self.on_scope)
        window.checklist.modelReset.connect(self._apply_filter)
        pane.verdict_chosen.connect(self.record_verdict)
        pane.comment_saved.connect(self.record_comment)
        pane.decision_chosen.connect(self.record_decision)
        pane.history_requested.connect(self.show_history)
        pane.next_unreviewed_requested.connect(self.next_unreviewed)
        pane.filter_changed.connect(self.set_filter)
        self.sync_action = window.file_menu.addAction("S&ync Offline Reviews...")
        self.sync_action.triggered.connect(self.ask_sync)
        self.sync_action.setEnabled(False)

    # --- the source and the selection ------------------------------------------------------

    def attach(self, source: DataSource | None) -> None:
        self.source = source
        if shiboken6.isValid(self.sync_action):  # at shutdown the window may be gone already
            self.sync_action.setEnabled(source is not None and source.live)
        if source is not None:
            self.tasks.spawn(self._show_waiting())

    def select(self, rec: InspectionSummary | None) -> None:
        self.inspection, self.state, self.item_id = rec, None, None
        self._show_state()
        if rec is not None and self.source is not None and self.source.reviews is not None:
            self.tasks.spawn(self._load(rec.id))

    async def _load(self, inspection_id: int, *, first_rows: bool = True) -> None:
        if first_rows and self._first_rows_shown is not None:
            await self._first_rows_shown()
        if self.inspection is None or self.inspection.id != inspection_id:
            return  # the user has moved on while the photos came first
        source = self.source
        if source is None or source.reviews is None:
            return
        try:
            state = await source.reviews.load(inspection_id, self.metrics)
        except Exception as exc:
            self.window.show_status(f"Review state not loaded: {user_message(exc, log, 'review')}")
            return
        if self.inspection is None or self.inspection.id != inspection_id:
            return  # the user has moved on
        for record in self.writing:  # a load may overtake a write: keep what was shown
            if record.inspection_id == inspection_id and not _holds(state, record):
                state = state.with_record(record)
        self.state = state
        self._show_state()

    def reload(self) -> None:
        if self.inspection is not None:
            self.tasks.spawn(self._load(self.inspection.id, first_rows=False))

    def on_scope(self, scope: Scope) -> None:
        self.item_id = scope.item_id if scope.kind is ScopeKind.ITEM else None
        self._show_item()

    # --- showing ---------------------------------------------------------------------------

    def _show_state(self) -> None:
        state = self.state
        self.window.checklist.set_reviews(dict(state.items) if state else {})
        delegate = self.window.media_pane.delegate
        delegate.flags = (
            {mid: (e.value, e.conflict) for mid, e in state.photos.items()} if state else {}
        )
        self.window.grid.viewport().update()
        self.pane.show_decision(state.decision if state else None)
        self._show_item()
        self._apply_filter()
        if self.viewer is not None:
            self.viewer.show_review()

    def _show_item(self) -> None:
        if self.item_id is None:
            self.pane.show_item(None, None)
            return
        index = self.window.checklist.index_of_item(self.item_id)
        title = str(index.data() or f"Item {self.item_id}")
        self.pane.show_item(title, self.state.item(self.item_id) if self.state else None)

    def set_filter(self, kind: str) -> None:
        self.filter = kind
        self._apply_filter()

    def _apply_filter(self) -> None:
        media = self._media_of() if self.filter == "flagged" else None
        flagged = set()
        # Only the "flagged" filter needs the photos' flags: the others skip a pass over every
        # photo (20,000 of them took 6-10 ms on each checklist reset).
        if self.state is not None and media is not None:
            photos = self.state.photos
            flagged = {
                m.checklist_item_id
                for m in media.all_media()
                if (e := photos.get(m.id)) is not None and e.value is not None
            }
        self.checklist_pane.apply_filter(self.filter, flagged)

    async def _show_waiting(self) -> None:
        source = self.source
        if source is None or source.reviews is None:
            return
        try:
            waiting = await source.reviews.waiting()
        except Exception as exc:
            self.window.show_status(user_message(exc, log, "reading the review journal"))
            return
        self.pane.show_waiting(waiting)

    # --- recording -------------------------------------------------------------------------

    def reviewer(self) -> str | None:
        """The reviewer's name: asked once, then remembered in the settings."""
        settings: QSettings | None = self.window.settings
        known = settings.value(REVIEWER_KEY) if settings is not None else None
        if isinstance(known, str) and known.strip():
            return known.strip()
        name, ok = QInputDialog.getText(
            self.window,
            "Reviewer",
            "Your name, recorded with every review:",
            QLineEdit.EchoMode.Normal,
            "",
        )
        name = name.strip()[:REVIEWER_MAX_CHARS]
        if not ok or not name:
            return None
        if settings is not None:
            settings.setValue(REVIEWER_KEY, name)
        return name

    def _record(
        self, kind: ReviewKind, target: int | None, value: str | None, comment: str | None
    ) -> None:
        if self.inspection is None or self.source is None or self.source.reviews is None:
            return
        name = self.reviewer()
        if name is None:
            return
        try:
            record = ReviewRecord.new(
                kind,
                self.inspection.id,
                target=target,
                value=value,
                comment=comment,
                reviewer=name,
                origin=self.source.reviews.origin,
            )
        except Exception as exc:
            self.window.show_status(user_message(exc, log, "a review record"), 8000)
            return
        # Shown at once, so a key pressed right after builds on it; a failed write reloads.
        if self.state is not None and self.state.inspection_id == record.inspection_id:
            self.state = self.state.with_record(record)
            self._show_state()
        self.writing.append(record)
        self.tasks.spawn(self._write(record))

    async def _write(self, record: ReviewRecord) -> None:
        source = self.source
        try:
            if source is None:
                raise RuntimeError("no data source")
            await source.record_review(record, self.metrics)
        except Exception as exc:
            self.window.show_status(f"Not saved: {user_message(exc, log, 'review')}", 10000)
            self.writing.remove(record)
            self.reload()
            return
        self.writing.remove(record)
        label = LABELS.get(record.value or "", "comment")
        self.window.show_status(f"Recorded {label} ({record.reviewer})", 4000)
        await self._show_waiting()

    def record_verdict(self, value: str) -> None:
        if self.item_id is None:
            self.window.show_status("Select a checklist item to give it a verdict", 4000)
            return
        self._record(ReviewKind.ITEM, self.item_id, value, self.pane.comment.toPlainText())

    def record_comment(self, text: str) -> None:
        if self.item_id is None:
            return
        entry = self.state.item(self.item_id) if self.state else None
        self._record(ReviewKind.ITEM, self.item_id, entry.value if entry else None, text)

    def record_decision(self, value: str) -> None:
        if self.inspection is None:
            return
        summary, ok = QInputDialog.getMultiLineText(
            self.window, LABELS[value], "Summary for the inspector (optional):"
        )
        if ok:
            self._record(ReviewKind.INSPECTION, None, value, summary)

    def attach_viewer(self, viewer: MediaViewer | None) -> None:
        """The photo viewer just opened: its flag and comment controls record here."""
        self.viewer = viewer
        if viewer is None:
            return
        viewer.review_of = lambda mid: self.state.photo(mid) if self.state else None

        def flag(value: object) -> None:
            entry = self.state.photo(viewer.current.id) if self.state else None
            comment = entry.record.comment if entry else None
            self._record(ReviewKind.PHOTO, viewer.current.id, value or None, comment)  # type: ignore[arg-type]

        def comment(text: str) -> None:
            entry = self.state.photo(viewer.current.id) if self.state else None
            self._record(ReviewKind.PHOTO, viewer.current.id, entry.value if entry else None, text)

        viewer.review.flag_chosen.connect(flag)
        viewer.review.comment_saved.connect(comment)
        viewer.finished.connect(lambda _r: setattr(self, "viewer", None))
        viewer.show_review()

    # --- navigation and history ------------------------------------------------------------

    def next_unreviewed(self) -> None:
        ids = self.window.checklist.item_ids()
        start = ids.index(self.item_id) + 1 if self.item_id in ids else 0
        for item_id in ids[start:] + ids[:start]:
            entry = self.window.checklist.review_of(item_id)
            if entry is None or entry.value is None:
                self.window.tree.setCurrentIndex(self.window.checklist.index_of_item(item_id))
                return
        self.window.show_status("Every checklist item has a verdict", 4000)

    def show_history(self) -> None:
        if self.inspection is not None and self.item_id is not None:
            self.tasks.spawn(self._history(self.inspection.id, self.item_id))

    async def _history(self, inspection_id: int, item_id: int) -> None:
        if self.source is None or self.source.reviews is None:
            return
        try:
            records = await self.source.reviews.history(
                inspection_id, ReviewKind.ITEM, item_id, self.metrics
            )
        except Exception as exc:
            self.window.show_status(user_message(exc, log, "review history"), 8000)
            return
        lines = [
            f"{r.created_at.astimezone():%Y-%m-%d %H:%M}  {r.reviewer}: "
            f"{LABELS.get(r.value or '', 'no verdict')}"
            + (f" - {r.comment}" if r.comment else "")
            + (" (conflict)" if r.conflict else "")
            for r in records
        ]
        box = QMessageBox(self.window)
        box.setObjectName("reviewHistory")
        box.setWindowTitle("Review history")
        box.setText("\n".join(lines) or "Nothing recorded on this item yet.")
        box.open()

    # --- sync ------------------------------------------------------------------------------

    def ask_sync(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Sync Offline Reviews",
            str(Path.home()),
            f"Inspection bundles (*{BUNDLE_SUFFIX})",
        )
        if path:
            self.tasks.spawn(self.sync(Path(path)))

    async def sync(self, bundle: Path) -> list[str] | None:
        job = self.source.sync_job(bundle) if self.source is not None else None
        if job is None:
            self.window.show_status("Open a database to sync offline reviews to", 5000)
            return None
        self.window.show_status(f"Syncing the reviews of {bundle.name}...")
        try:
            summary = await asyncio.to_thread(job)
        except Exception as exc:
            message = user_message(exc, log, "syncing reviews")
            self.window.show_status(f"Sync failed: {message}", 15000)
            QMessageBox.warning(self.window, "Sync Offline Reviews", message)
            return None
        lines = summary.lines()
        self.window.show_status(f"{bundle.name}: {lines[0]}", 15000)
        box = QMessageBox(self.window)
        box.setObjectName("syncSummary")
        box.setWindowTitle("Sync Offline Reviews")
        box.setText(f"{bundle.name}: " + "\n".join(lines))
        box.open()
        self.reload()
        return lines


def _holds(state: ReviewState, record: ReviewRecord) -> bool:
    """Whether `state` already shows `record` as its target's newest."""
    if record.kind is ReviewKind.INSPECTION:
        entry = state.decision
    elif record.kind is ReviewKind.ITEM:
        entry = state.item(record.checklist_item_id or 0)
    else:
        entry = state.photo(record.media_id or 0)
    return entry is not None and entry.record.id == record.id
