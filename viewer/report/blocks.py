"""The pieces a report page is made of: each measures its height, then paints itself at a top."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen

from db.records import ChecklistEntry, MediaItem
from viewer.report.content import RESULT_LABELS, ItemVerdict, item_heading, when
from viewer.report.page import (
    ATTENTION,
    CENTRE,
    DEVICE_DPI,
    INK,
    LEFT,
    MUTED,
    PANEL,
    PRINT_DPI,
    RESULT_COLOURS,
    RULE,
    PageGeometry,
    Typesetter,
    draw_rule,
    mm,
)
from viewer.report.photos import PhotoProblem, PrintPhoto

# Text from the database is the inspector's: long notes are cut, so no block outgrows a page.
MAX_TEXT_CHARS = 1500
PhotoSource = Iterator[tuple[MediaItem, PrintPhoto]]
AFTER_BLOCK = mm(2.5)
BADGE_WIDTH = mm(17)
INDENT = BADGE_WIDTH + mm(3)
CENTRED_WRAP = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap


def cut(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


class Block:
    """One piece of a page. `keep_with_next`: never the last thing on a page."""

    keep_with_next = False
    photos: tuple[MediaItem, ...] = ()

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        raise NotImplementedError

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        raise NotImplementedError


class PageBreak(Block):
    """The next block starts a page."""

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        return 0.0

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        pass


@dataclass
class Heading(Block):
    text: str
    level: int = 1
    keep_with_next = True

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        font = ts.fonts.heading if self.level == 1 else ts.fonts.subheading
        space = mm(4) if self.level == 1 else mm(2.5)
        return space + ts.height(font, self.text, page.body.width()) + mm(2)

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        font = ts.fonts.heading if self.level == 1 else ts.fonts.subheading
        body = page.body
        space = mm(4) if self.level == 1 else mm(2.5)
        text_height = ts.height(font, self.text, body.width())
        ts.draw(
            painter, font, QRectF(body.left(), top + space, body.width(), text_height), self.text
        )
        if self.level == 1:
            draw_rule(painter, body.left(), body.right(), top + space + text_height + mm(0.8))


@dataclass
class Paragraph(Block):
    text: str
    muted: bool = False

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        return ts.height(ts.fonts.body, cut(self.text), page.body.width()) + AFTER_BLOCK

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        body = page.body
        rect = QRectF(body.left(), top, body.width(), body.height())
        ts.draw(painter, ts.fonts.body, rect, cut(self.text), MUTED if self.muted else INK)


@dataclass
class FactTable(Block):
    """Label/value rows, the values wrapped."""

    rows: Sequence[tuple[str, str]]
    label_width: float = mm(45)

    def _row_height(self, ts: Typesetter, page: PageGeometry, value: str) -> float:
        width = page.body.width() - self.label_width
        return max(ts.line_height(ts.fonts.body), ts.height(ts.fonts.body, cut(value), width))

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        rows = sum(self._row_height(ts, page, v) + mm(1.2) for _, v in self.rows)
        return rows + AFTER_BLOCK

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        left, width = page.body.left(), page.body.width()
        y = top
        for label, value in self.rows:
            h = self._row_height(ts, page, value)
            ts.draw(painter, ts.fonts.bold, QRectF(left, y, self.label_width, h), label, MUTED)
            value_rect = QRectF(left + self.label_width, y, width - self.label_width, h)
            ts.draw(painter, ts.fonts.body, value_rect, cut(value))
            y += h + mm(1.2)


@dataclass
class Title(Block):
    """The cover's title: what the document is and the inspection's reference."""

    kind: str
    reference: str

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        return ts.line_height(ts.fonts.title) + ts.line_height(ts.fonts.reference) + mm(8)

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        body = page.body
        line = ts.line_height(ts.fonts.title)
        ts.draw(painter, ts.fonts.title, QRectF(body.left(), top, body.width(), line), self.kind)
        ref_line = ts.line_height(ts.fonts.reference)
        rect = QRectF(body.left(), top + line + mm(1), body.width(), ref_line)
        ts.draw(painter, ts.fonts.reference, rect, self.reference)
        draw_rule(painter, body.left(), body.right(), top + line + ref_line + mm(4), ATTENTION)


@dataclass
class ItemBlock(Block):
    """A checklist item: its result badge and title, notes, review verdict, a photo note."""

    entry: ChecklistEntry
    verdict: ItemVerdict | None
    photo_note: str
    with_section: bool = False

    def _lines(self) -> list[tuple[str, bool]]:
        """(text, in the attention colour) under the title."""
        lines: list[tuple[str, bool]] = []
        if self.entry.notes:
            lines.append((f"Notes: {cut(self.entry.notes)}", False))
        if self.verdict is not None:
            text = f"Review: {self.verdict.label}"
            if self.verdict.comment:
                text += f" \u2014 {cut(self.verdict.comment, 600)}"
            who = ", ".join(p for p in (self.verdict.reviewer, when(self.verdict.at)) if p)
            if who:
                text += f" ({who})"
            lines.append((text, self.verdict.verdict == "needs_rework"))
        if self.photo_note:
            lines.append((self.photo_note, False))
        return lines

    def _title(self) -> str:
        heading = cut(item_heading(self.entry), 300)
        return f"{cut(self.entry.section, 120)} \u2014 {heading}" if self.with_section else heading

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        width = page.body.width() - INDENT
        total = max(ts.height(ts.fonts.bold, self._title(), width), _badge_height(ts))
        for text, _ in self._lines():
            total += mm(0.8) + ts.height(ts.fonts.body, text, width)
        return total + AFTER_BLOCK

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        body = page.body
        x, width = body.left() + INDENT, body.width() - INDENT
        _paint_badge(painter, ts, QRectF(body.left(), top, BADGE_WIDTH, _badge_height(ts)), self)
        title_height = ts.height(ts.fonts.bold, self._title(), width)
        ts.draw(painter, ts.fonts.bold, QRectF(x, top, width, title_height), self._title())
        y = top + max(title_height, _badge_height(ts))
        for text, alert in self._lines():
            h = ts.height(ts.fonts.body, text, width)
            y += mm(0.8)
            ts.draw(
                painter, ts.fonts.body, QRectF(x, y, width, h), text, ATTENTION if alert else MUTED
            )
            y += h


def _badge_height(ts: Typesetter) -> float:
    return ts.line_height(ts.fonts.badge) + mm(1.2)


def _paint_badge(painter: QPainter, ts: Typesetter, rect: QRectF, item: ItemBlock) -> None:
    result = item.entry.result
    colour = RESULT_COLOURS.get(result, MUTED)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(colour))
    painter.drawRoundedRect(rect, mm(0.8), mm(0.8))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    label = RESULT_LABELS.get(result, result.upper())
    ts.draw(painter, ts.fonts.badge, rect, label, QColor("white"), CENTRE)


@dataclass
class PhotoRow(Block):
    """Up to PHOTO_COLUMNS photos side by side, each with its caption and capture time."""

    media: tuple[MediaItem, ...]
    flags: tuple[str | None, ...] = ()  # the reviewer's flag on each photo

    @property
    def photos(self) -> tuple[MediaItem, ...]:  # type: ignore[override]
        return self.media

    def height(self, ts: Typesetter, page: PageGeometry) -> float:
        lines = 3 if any(self.flags) else 2  # a reviewer's flag gets a line of its own
        caption = lines * ts.line_height(ts.fonts.small) + mm(1)
        return page.photo_height + caption + page.gap

    def paint(
        self, painter: QPainter, ts: Typesetter, page: PageGeometry, top: float, src: PhotoSource
    ) -> None:
        body = page.body
        for column, expected in enumerate(self.media):
            media, photo = next(src)
            if media.id != expected.id:
                raise RuntimeError("report photos arrived out of order")
            x = body.left() + column * (page.cell_width + page.gap)
            box = QRectF(x, top, page.cell_width, page.photo_height)
            _paint_photo(painter, ts, box, photo)
            flag = self.flags[column] if column < len(self.flags) else None
            at = QRectF(x, box.bottom() + mm(1), box.width(), 0)
            _paint_caption(painter, ts, at, media, flag)


def _paint_photo(painter: QPainter, ts: Typesetter, box: QRectF, photo: PrintPhoto) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(PANEL))
    painter.drawRect(box)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    if isinstance(photo, PhotoProblem):
        _paint_problem(painter, ts, box, photo)
        return
    target = _printed_rect(box, photo)
    painter.drawImage(target, photo)


def _printed_rect(box: QRectF, image: QImage) -> QRectF:
    """Centred in the box at PRINT_DPI: a photo smaller than the box is not enlarged."""
    scale = DEVICE_DPI / PRINT_DPI
    width = min(box.width(), image.width() * scale)
    height = min(box.height(), image.height() * scale)
    ratio = min(width / image.width(), height / image.height())
    width, height = image.width() * ratio, image.height() * ratio
    return QRectF(
        box.left() + (box.width() - width) / 2,
        box.top() + (box.height() - height) / 2,
        width,
        height,
    )


def _paint_problem(painter: QPainter, ts: Typesetter, box: QRectF, problem: PhotoProblem) -> None:
    """A labelled placeholder: that the photo is unavailable, what kind of problem, the reason."""
    painter.setPen(QPen(RULE, mm(0.4), Qt.PenStyle.DashLine))
    painter.drawRect(box.adjusted(mm(1), mm(1), -mm(1), -mm(1)))
    inner = box.adjusted(mm(3), mm(3), -mm(3), -mm(3))
    lines = [
        (ts.fonts.bold, "Photo unavailable", ATTENTION),
        (ts.fonts.bold, problem.label, INK),
        (ts.fonts.small, cut(problem.reason, 300), MUTED),
    ]
    heights = [ts.height(font, text, inner.width()) for font, text, _ in lines]
    y = max(inner.top(), inner.center().y() - sum(heights) / 2)
    for (font, text, colour), height in zip(lines, heights, strict=True):
        rect = QRectF(inner.left(), y, inner.width(), min(height, inner.bottom() - y))
        ts.draw(painter, font, rect, text, colour, CENTRED_WRAP)
        y += height


def _paint_caption(
    painter: QPainter, ts: Typesetter, at: QRectF, media: MediaItem, flag: str | None
) -> None:
    line = ts.line_height(ts.fonts.small)
    lines = [
        (media.caption or f"Photo {media.id}", INK),
        (f"Taken {when(media.captured_at)}", MUTED),
    ]
    if flag:
        lines.append((f"Review: {flag}", ATTENTION))
    for row, (text, colour) in enumerate(lines):
        rect = QRectF(at.left(), at.top() + row * line, at.width(), line)
        ts.draw(
            painter, ts.fonts.small, rect, ts.elided(ts.fonts.small, text, at.width()), colour, LEFT
        )
