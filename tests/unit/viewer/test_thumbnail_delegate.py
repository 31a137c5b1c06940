"""Grid cells as painted: a long caption is elided to fill its cell and never past it, also
after a font change (the laid-out captions are cached per font), and a short one is drawn
whole and centred."""

from __future__ import annotations

import datetime
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QImage

from db.records import MediaItem
from viewer.models.media_grid import MediaGridModel, loading_tile
from viewer.widgets.panes.media import MediaPane

LONG = "Defect: silt and leaves in the surface drain beside the north-east downpipe " * 3


def _item(media_id: int, caption: str) -> MediaItem:
    return MediaItem(
        media_id, 1, f"demo/{media_id}.jpg", "image/jpeg", 800, 600, 1000, "a" * 64, caption,
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), 1,
    )  # fmt: skip


def _pane(qtbot: Any, captions: list[str]) -> MediaPane:
    model = MediaGridModel(loading_tile(160, 120))
    pane = MediaPane(model)
    qtbot.addWidget(pane)
    pane.resize(620, 500)
    pane.show()
    pane.show_grid()
    model.set_media([_item(n + 1, c) for n, c in enumerate(captions)])
    photo = QImage(160, 120, QImage.Format.Format_RGB32)
    photo.fill(QColor("#336699"))
    model.set_images([(n + 1, photo) for n in range(len(captions))], [])
    return pane


def _ink_columns(image: QImage, band: QRect) -> list[int]:
    """The x of every column in `band` with a pixel much darker than the cell's background."""
    background = image.pixelColor(band.left(), band.top()).lightness()
    return [
        x
        for x in range(band.left(), band.right() + 1)
        if any(
            image.pixelColor(x, y).lightness() < background - 80
            for y in range(band.top(), band.bottom() + 1)
        )
    ]


def _caption_band(pane: MediaPane, row: int) -> QRect:
    cell = pane.grid.visualRect(pane.grid.model().index(row, 0))
    top = cell.top() + 4 + pane.delegate.icon.height() + 4
    return QRect(cell.left(), top, cell.width(), cell.bottom() - top)


def _grab(pane: MediaPane) -> QImage:
    image = pane.grid.viewport().grab().toImage()
    ratio = image.devicePixelRatio()
    if ratio != 1:
        image = image.scaled(round(image.width() / ratio), round(image.height() / ratio))
    return image


def test_a_long_caption_fills_its_cell_and_stays_inside_also_after_a_font_change(
    qtbot: Any,
) -> None:
    pane = _pane(qtbot, [LONG, LONG])
    for point_size in (None, 6):
        if point_size is not None:
            font = QFont(pane.grid.font())
            font.setPointSize(point_size)
            pane.grid.setFont(font)
        qtbot.waitUntil(lambda: not pane.grid.viewport().grab().isNull())
        band = _caption_band(pane, 0)
        ink = _ink_columns(_grab(pane), band)
        assert ink, "the caption was not drawn"
        # Elided inside the cell's 4 px margins: never up to its edge or into the next cell.
        assert min(ink) >= band.left() + 3 and max(ink) <= band.right() - 3
        # ... and elided for this font: a line laid out for the old, larger one would leave
        # a third of the cell empty.
        assert min(ink) <= band.left() + 15 and max(ink) >= band.right() - 15


def test_a_short_caption_is_drawn_whole_and_centred(qtbot: Any) -> None:
    pane = _pane(qtbot, ["Roof"])
    band = _caption_band(pane, 0)
    ink = _ink_columns(_grab(pane), band)
    assert ink
    centre = (min(ink) + max(ink)) / 2
    assert abs(centre - band.center().x()) <= 2
    assert max(ink) - min(ink) < band.width() / 3  # one short word, not an elided line
