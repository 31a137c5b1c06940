"""Demo dataset: deterministic, realistic inspections, checklists and photos to try the app on."""

from db.demo.generate import clear_data, database_is_empty, generate_demo
from db.demo.media_rows import MAX_PHOTOS_PER_ITEM
from db.demo.photos import EXIF_ORIENTATION
from db.demo.spec import (
    ANCHOR,
    BAD_MEDIA_INSPECTION_REFERENCE,
    BAD_MEDIA_KEYS,
    LARGE_INSPECTION_REFERENCE,
    DemoDataExists,
    DemoSpec,
    DemoSummary,
    InvalidDemoSpec,
)
from db.demo.vocabulary import CHECKLIST, SECTIONS

__all__ = [
    "ANCHOR",
    "BAD_MEDIA_INSPECTION_REFERENCE",
    "BAD_MEDIA_KEYS",
    "CHECKLIST",
    "EXIF_ORIENTATION",
    "LARGE_INSPECTION_REFERENCE",
    "MAX_PHOTOS_PER_ITEM",
    "SECTIONS",
    "DemoDataExists",
    "DemoSpec",
    "DemoSummary",
    "InvalidDemoSpec",
    "clear_data",
    "database_is_empty",
    "generate_demo",
]
