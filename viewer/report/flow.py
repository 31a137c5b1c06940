"""One inspection's report as a list of blocks, and those blocks broken into pages.

The order is the issue's: a cover with the summary; then the failed and needs-rework items,
each with its notes, review verdict and photos; then every other item in checklist order.
Pages are laid out before any is painted, so every page can say "Page N of M".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from db.records import ChecklistEntry, MediaItem
from viewer import __version__
from viewer.report.blocks import (
    Block,
    FactTable,
    Heading,
    ItemBlock,
    PageBreak,
    Paragraph,
    PhotoRow,
    Title,
    cut,
)
from viewer.report.content import (
    PhotoChoice,
    ReportInspection,
    cover_facts,
    sections_in_order,
    summary_lines,
)
from viewer.report.page import PHOTO_COLUMNS, PageGeometry, Typesetter

PHOTO_CHOICE_TEXT = {
    PhotoChoice.ALL: "all photos",
    PhotoChoice.FAILED: "photos of the failed and needs-rework items",
    PhotoChoice.NONE: "no photos",
}


@dataclass
class LaidOutPage:
    """One page: its blocks at their tops, and whose inspection it belongs to."""

    inspection: ReportInspection
    blocks: list[tuple[Block, float]] = field(default_factory=list)


def inspection_blocks(
    inspection: ReportInspection, choice: PhotoChoice, generated: str
) -> list[Block]:
    """Everything the report says about one inspection, in reading order."""
    blocks: list[Block] = [
        Title("Inspection report", inspection.reference),
        FactTable(cover_facts(inspection)),
        Heading("Summary"),
        FactTable(summary_lines(inspection, choice)),
        Paragraph(
            f"Generated {generated} by Inspection Viewer {__version__}, with "
            f"{PHOTO_CHOICE_TEXT[choice]}. Photos are shown upright at print resolution; "
            "the originals are kept in the inspection's photo store.",
            muted=True,
        ),
        PageBreak(),
    ]
    attention = inspection.attention_items()
    blocks.append(Heading(f"Failed and needs-rework items ({len(attention)})"))
    if not attention:
        blocks.append(Paragraph("No item failed or was sent back for rework.", muted=True))
    for entry in attention:
        blocks += _item(inspection, entry, choice, with_section=True)
    others = inspection.other_items()
    blocks.append(Heading(f"All other items, in checklist order ({len(others)})"))
    for section, entries in sections_in_order(others):
        blocks.append(Heading(cut(section, 200), level=2))
        for entry in entries:
            blocks += _item(inspection, entry, choice, with_section=False)
    return blocks


def _item(
    inspection: ReportInspection, entry: ChecklistEntry, choice: PhotoChoice, *, with_section: bool
) -> list[Block]:
    photos = inspection.photos_of(entry, choice)
    count = len(inspection.media.for_item(entry.id))
    if count == 0:
        note = "No photos" if with_section else ""
    elif photos:
        note = ""
    else:
        note = f"{count} photo{'s' if count != 1 else ''} (not included in this report)"
    head = ItemBlock(entry, inspection.verdict(entry.id), note, with_section=with_section)
    rows: list[Block] = [
        PhotoRow(chunk, tuple(inspection.photo_flag(m.id) for m in chunk))
        for chunk in _chunks(photos, PHOTO_COLUMNS)
    ]
    head.keep_with_next = bool(rows)
    return [head, *rows]


def _chunks(media: Sequence[MediaItem], size: int) -> list[tuple[MediaItem, ...]]:
    return [tuple(media[i : i + size]) for i in range(0, len(media), size)]


def paginate(
    inspection: ReportInspection,
    blocks: Sequence[Block],
    ts: Typesetter,
    page: PageGeometry,
) -> list[LaidOutPage]:
    """The blocks on pages: a block that does not fit starts the next page, and one that must
    stay with its successor (a heading, an item before its photos) moves along with it."""
    body = page.body
    pages = [LaidOutPage(inspection)]
    y = body.top()
    heights = [block.height(ts, page) for block in blocks]
    for index, block in enumerate(blocks):
        if isinstance(block, PageBreak):
            if pages[-1].blocks:
                pages.append(LaidOutPage(inspection))
                y = body.top()
            continue
        needed = _kept_together(blocks, heights, index)
        if needed > body.height():  # a chain longer than a page: only the block itself
            needed = heights[index]
        if y + needed > body.bottom() and pages[-1].blocks:
            pages.append(LaidOutPage(inspection))
            y = body.top()
        pages[-1].blocks.append((block, y))
        y += heights[index]
    return pages


def _kept_together(blocks: Sequence[Block], heights: Sequence[float], index: int) -> float:
    """The height of a block and of the successors it must stay with (a section heading, its
    first item, that item's first row of photos)."""
    needed = heights[index]
    while blocks[index].keep_with_next and index + 1 < len(blocks):
        index += 1
        if isinstance(blocks[index], PageBreak):
            break
        needed += heights[index]
    return needed


def photos_in_order(pages: Sequence[LaidOutPage]) -> list[MediaItem]:
    """Every photo the pages show, in the order they are painted."""
    return [m for p in pages for block, _ in p.blocks for m in block.photos]
