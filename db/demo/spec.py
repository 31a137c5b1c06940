"""What a demo dataset is: its spec and summary, its fixed references, dates and storage keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from db.errors import ConfigError, KnownError

# Bump when the pictures or the manifest format change: old pool manifests are then ignored.
GENERATOR_VERSION = 1

# "Now" of the dataset: every generated date is relative to it, never to the wall clock.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)

LARGE_INSPECTION_REFERENCE = "INS-2026-0412"
BAD_MEDIA_INSPECTION_REFERENCE = "INS-2026-0388"

DEMO_PREFIX = "demo"
MIME_JPEG = "image/jpeg"

# kind -> storage key of the deliberately broken media rows (all in the bad-media inspection).
BAD_MEDIA_KEYS: dict[str, str] = {
    "missing": f"{DEMO_PREFIX}/bad/missing-file.jpg",
    "truncated": f"{DEMO_PREFIX}/bad/truncated.jpg",
    "empty": f"{DEMO_PREFIX}/bad/zero-bytes.jpg",
    "not_image": f"{DEMO_PREFIX}/bad/not-an-image.jpg",
}
BAD_MEDIA_PREFIX = f"{DEMO_PREFIX}/bad/"
BAD_CAPTIONS = {
    "missing": "Demo: file missing from storage",
    "truncated": "Demo: truncated JPEG (upload interrupted)",
    "empty": "Demo: empty file (0 bytes)",
    "not_image": "Demo: text file with a .jpg name",
}
TRUNCATED_FRACTION = 0.4
NOT_AN_IMAGE_TEXT = (
    "This is not a photo. It is a text file saved under a .jpg name by the Inspection Viewer\n"
    "demo generator, so the app's handling of unreadable media can be seen.\n"
)


class DemoDataExists(KnownError, ValueError):
    """The database already holds inspections; the demo is only generated into an empty one."""


class InvalidDemoSpec(ConfigError, ValueError):
    """A DemoSpec below the minimums the demo exists to show (e.g. `demo --inspections 1`)."""


@dataclass(frozen=True)
class DemoSpec:
    inspections: int = 48  # in total, including the large one
    seed: int = 20261128
    large_items: int = 220
    large_media: int = 1100
    # Distinct photo files shared by all media rows: the encoding cost is in these.
    full_size_photos: int = 12
    small_photos: int = 36

    def __post_init__(self) -> None:
        if self.inspections < 2:
            raise InvalidDemoSpec(
                "the demo needs at least 2 inspections (the large and the bad-media one)"
            )
        if self.large_items < 200:
            raise InvalidDemoSpec("the large inspection needs at least 200 checklist items")
        if self.large_media < 1000:
            raise InvalidDemoSpec("the large inspection needs at least 1,000 photos")
        if self.full_size_photos < 1 or self.small_photos < 1:
            raise InvalidDemoSpec("the photo pool needs at least one full-size and one small photo")


DEFAULT_SPEC = DemoSpec()  # frozen: safe to share as a default argument


@dataclass(frozen=True)
class DemoSummary:
    inspections: int
    checklist_items: int
    media: int  # all media rows, including bad and soft-deleted ones
    image_files: int  # distinct good JPEG files the rows share
    bad_media: int
    soft_deleted: int
    bytes_on_disk: int  # photo files plus the deliberately bad files
    large_reference: str
    seconds: float
