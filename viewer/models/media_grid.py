"""The photos shown in the grid: records from one load, images only for the rows in view."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from db.records import MediaItem

FailureRole = Qt.ItemDataRole.UserRole + 2  # (kind, reason) or None

_Index = QModelIndex | QPersistentModelIndex


def loading_tile(width: int, height: int) -> QImage:
    """The tile shown until a thumbnail arrives: light grey, so the grid's shape shows at once.

    Opaque (RGB32), as the thumbnails are: Qt's raster engine copies such an image instead of
    blending it. A scroll step of a viewport of tiles (20,000 rows, 1440x860) took 3.2-3.4 ms
    of GUI-thread CPU against 4.7-5.2 ms with a premultiplied ARGB tile (median of 800 steps,
    three alternating pairs)."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#ececec"))
    painter = QPainter(image)
    painter.setPen(QColor("#d0d0d0"))
    painter.drawRect(0, 0, width - 1, height - 1)
    painter.end()
    return image


class MediaGridModel(QAbstractListModel):
    """One row per photo. Images are kept only for rows near the view (set by `keep_rows`):
    the thumbnail cache bounds memory, not this model."""

    def __init__(self, tile: QImage, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: tuple[MediaItem, ...] = ()
        self._row_of: dict[int, int] = {}
        self._images: dict[int, QImage] = {}
        self._failures: dict[int, tuple[str, str]] = {}
        self._tile = tile

    def set_media(self, items: Sequence[MediaItem]) -> None:
        self.beginResetModel()
        self._items = tuple(items)
        self._row_of = {m.id: i for i, m in enumerate(self._items)}
        self._images.clear()
        self._failures.clear()
        self.endResetModel()

    def append_media(self, items: Sequence[MediaItem]) -> None:
        """More photos of the same set (a load still streaming in): rows added, none reset."""
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items = self._items + tuple(items)
        for i, m in enumerate(items, first):
            self._row_of[m.id] = i
        self.endInsertRows()

    def resize_tiles(self, tile: QImage) -> None:
        """The thumbnail size changed: new loading tile, and thumbnails are asked for again
        (a failed photo keeps its placeholder, which the delegate fits into the new box)."""
        self._tile = tile
        self._images = {k: v for k, v in self._images.items() if k in self._failures}
        if self._items:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._items) - 1), [Qt.ItemDataRole.DecorationRole]
            )

    def media(self) -> tuple[MediaItem, ...]:
        return self._items

    def item(self, row: int) -> MediaItem | None:
        return self._items[row] if 0 <= row < len(self._items) else None

    def row_of(self, media_id: int) -> int:
        return self._row_of.get(media_id, -1)

    def has_image(self, row: int) -> bool:
        item = self.item(row)
        return item is not None and (item.id in self._images or item.id in self._failures)

    def set_image(self, media_id: int, image: QImage) -> bool:
        row = self._row_of.get(media_id)
        if row is None:
            return False
        self._images[media_id] = image
        self._failures.pop(media_id, None)
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
        return True

    def set_images(
        self, images: Iterable[tuple[int, QImage]], failures: Iterable[tuple[int, str, str, QImage]]
    ) -> int:
        """Thumbnails (media id, image) and failures (media id, kind, reason, tile) of one batch,
        told to the view as one dataChanged per run of adjacent rows. The grid still repaints
        once (its updates are coalesced), and the view's work is per changed row: one range
        over the rows a batch spans cost about 2 ms for 20 thumbnails spread over 1,000 rows
        (Qt asks rowCount() once for every row in the range), the runs 0.3 ms. Rows of other
        sets are ignored; returns how many rows changed."""
        rows = []
        for media_id, image in images:
            row = self._row_of.get(media_id)
            if row is not None:
                self._images[media_id] = image
                self._failures.pop(media_id, None)
                rows.append(row)
        for media_id, kind, reason, tile in failures:
            row = self._row_of.get(media_id)
            if row is not None:
                self._images[media_id] = tile
                self._failures[media_id] = (kind, reason)
                rows.append(row)
        for first, last in _runs(rows):
            self.dataChanged.emit(self.index(first), self.index(last))
        return len(rows)

    def set_failure(self, media_id: int, kind: str, reason: str, image: QImage) -> bool:
        row = self._row_of.get(media_id)
        if row is None:
            return False
        self._images[media_id] = image
        self._failures[media_id] = (kind, reason)
        index = self.index(row)
        self.dataChanged.emit(index, index)
        return True

    def keep_rows(self, first: int, last: int) -> None:
        """Forget images outside [first, last]: they come back from the cache when needed."""
        keep = {m.id for m in self._items[max(first, 0) : last + 1]}
        for media_id in [k for k in self._images if k not in keep]:
            del self._images[media_id]

    def cell(self, row: int) -> tuple[QImage, str, bool] | None:
        """What the grid's delegate paints in one call: the image (or the loading tile), the
        caption and whether the photo failed. Painting asks for it once per cell per frame,
        so it skips the model's generic data() (three round trips through Qt)."""
        if not 0 <= row < len(self._items):
            return None
        item = self._items[row]
        media_id = item.id
        caption = item.caption or item.storage_key.rsplit("/", 1)[-1]
        return self._images.get(media_id, self._tile), caption, media_id in self._failures

    def media_id(self, row: int) -> int | None:
        return self._items[row].id if 0 <= row < len(self._items) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DecorationRole:
            return self._images.get(item.id, self._tile)
        if role == Qt.ItemDataRole.DisplayRole:
            return item.caption or item.storage_key.rsplit("/", 1)[-1]
        if role == Qt.ItemDataRole.ToolTipRole:
            failure = self._failures.get(item.id)
            when = item.captured_at.strftime("%Y-%m-%d %H:%M")
            lines = [item.caption or "", f"{item.width} x {item.height}, {when}"]
            if failure is not None:
                lines.append(f"Cannot show this photo: {failure[1]}")
            return "\n".join(line for line in lines if line)
        if role == FailureRole:
            return self._failures.get(item.id)
        return None


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of adjacent rows, in order."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs
