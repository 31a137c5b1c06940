"""Demo dataset: deterministic, realistic inspections, checklists and photos to try the app on."""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFont
from sqlalchemy import Connection, Engine, Table, insert, text

from db.errors import ConfigError, KnownError
from db.models import Base, InspectionStatus, ItemResult

ProgressCallback = Callable[[str, int, int], None]

# Bump when the pictures or the manifest format change: old pool manifests are then ignored.
GENERATOR_VERSION = 1

# "Now" of the dataset: every generated date is relative to it, never to the wall clock.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)

LARGE_INSPECTION_REFERENCE = "INS-2026-0412"
BAD_MEDIA_INSPECTION_REFERENCE = "INS-2026-0388"

DEMO_PREFIX = "demo"
MIME_JPEG = "image/jpeg"
EXIF_ORIENTATION = 0x0112

# kind -> storage key of the deliberately broken media rows (all in the bad-media inspection).
BAD_MEDIA_KEYS: dict[str, str] = {
    "missing": f"{DEMO_PREFIX}/bad/missing-file.jpg",
    "truncated": f"{DEMO_PREFIX}/bad/truncated.jpg",
    "empty": f"{DEMO_PREFIX}/bad/zero-bytes.jpg",
    "not_image": f"{DEMO_PREFIX}/bad/not-an-image.jpg",
}
_BAD_CAPTIONS = {
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

# (stored width, stored height, EXIF orientation or None); cycled through by pool index.
FULL_SIZE_FORMATS: tuple[tuple[int, int, int | None], ...] = (
    (4032, 3024, None),
    (4032, 3024, 6),
    (4032, 3024, 1),
    (3024, 4032, None),
    (4032, 3024, 3),
    (4032, 3024, 8),
)
SMALL_FORMATS: tuple[tuple[int, int, int | None], ...] = (
    (1600, 1200, None),
    (1200, 1600, None),
    (1600, 1200, 6),
    (2048, 1536, 1),
    (1280, 960, None),
    (1920, 1080, None),
    (1600, 1200, 3),
    (1536, 2048, None),
    (1600, 1200, 8),
)
JPEG_QUALITY = 85

# Section -> (checklist item title, what a failure of it typically is), in template order.
_TEMPLATE: dict[str, tuple[tuple[str, str], ...]] = {
    "Site and Drainage": (
        ("Site grading slopes away from building", "Ground falls towards the north wall"),
        ("Surface drains clear of debris", "Silt and leaves in the surface drain"),
        ("Stormwater pits and grates intact", "Grate missing from stormwater pit"),
        ("Retaining walls plumb, no bulging", "Retaining wall leaning outwards"),
        ("Paving free of trip hazards", "Lifted paver at the entrance path, 25 mm lip"),
        ("Fences and gates secure", "Gate latch broken"),
        ("Trees clear of roof and walls", "Branches touching the roof on the east side"),
        ("Exterior lighting operational", "Two path lights not working"),
        ("Parking bays marked and drained", "Ponding water in bays 3 to 5"),
    ),
    "Exterior": (
        ("Wall cladding intact, no cracks", "Vertical crack about 3 mm wide above the window"),
        ("Mortar joints sound", "Mortar eroded and sandy on the west wall"),
        ("Weep holes clear", "Weep holes blocked by mortar droppings"),
        ("Sealant around window frames", "Sealant perished and split"),
        ("Flashings at wall penetrations", "No flashing above the vent penetration"),
        ("Exterior doors close and latch", "Rear door does not latch"),
        ("Balcony balustrades secure", "Balustrade post loose at base"),
        ("Paint and coatings in good condition", "Paint flaking on the south elevation"),
        ("Street number visible from road", "Street number missing"),
    ),
    "Roof": (
        ("Roof covering intact, no slipped tiles", "Two cracked tiles near the ridge"),
        ("Ridge capping bedded and pointed", "Ridge pointing cracked and loose"),
        ("Flashings at chimneys and vents", "Flashing lifted at the vent pipe"),
        ("Gutters and downspouts secured", "Gutter bracket detached at the corner"),
        ("Gutters clear of debris", "Leaves blocking the gutter outlet"),
        ("Roof drainage outlets clear", "Outlet blocked, water ponding on the roof"),
        ("Skylights sealed", "Stain below the skylight, seal failed"),
        ("Roof access hatch secure", "Hatch lid does not lock"),
        ("Roof anchors certified", "Anchor certification expired"),
        ("Roof space ventilation adequate", "Condensation on the roof sheeting"),
        ("Ceiling insulation in place", "Insulation batts displaced above the hall"),
    ),
    "Structure": (
        ("Foundations free of cracking", "Stepped cracking in brickwork above the footing"),
        ("No signs of settlement", "Floor falls 15 mm across the living room"),
        ("Load-bearing walls unaltered", "Opening cut in a load-bearing wall, no lintel seen"),
        ("Beams and columns free of corrosion", "Rust staining on the steel beam"),
        ("Concrete slab free of spalling", "Spalling concrete exposing reinforcement"),
        ("Floor framing sound, no deflection", "Noticeable floor bounce in the hallway"),
        ("Expansion joints in good condition", "Joint filler missing"),
        ("Subfloor ventilation clear", "Vents blocked by garden beds"),
        ("No termite activity", "Mud leads on the subfloor pier"),
    ),
    "Electrical": (
        ("Main switchboard labelled", "Switchboard circuits unlabelled"),
        ("Circuit breakers correctly rated", "20 A breaker on a 1.5 mm² lighting circuit"),
        ("Earthing and bonding present", "No bonding to the water pipe"),
        ("GFCI protection in wet areas", "No GFCI on the bathroom outlet"),
        ("RCD test button trips", "RCD did not trip when tested"),
        ("No exposed wiring", "Exposed conductor behind the light switch"),
        ("Outlets secure and undamaged", "Cracked outlet cover in the kitchen"),
        ("Light fittings operational", "Stairwell light not working"),
        ("Emergency lighting tested", "Emergency light failed the 90-minute test"),
        ("Meter box accessible", "Meter box blocked by stored timber"),
    ),
    "Plumbing": (
        ("Shut-off valves accessible", "Main valve behind a fixed panel"),
        ("Water pressure within range", "Static pressure 720 kPa, above range"),
        ("Backflow prevention device tested", "No test tag on the backflow device"),
        ("Water heater relief valve discharges safely", "Relief valve drain line missing"),
        ("Hot water at or below 50 °C at outlets", "Hot water measured at 62 °C at the basin"),
        ("No leaks under sinks", "Slow leak at the trap under the kitchen sink"),
        ("Toilets flush and refill correctly", "Cistern runs on after refill"),
        ("Drains flow freely", "Shower drain slow, water pools"),
        ("Pipe insulation in place", "Uninsulated hot pipe in the roof space"),
    ),
    "HVAC": (
        ("Air filters clean", "Filters heavily clogged"),
        ("Thermostat operational", "Thermostat display blank"),
        ("Supply air temperature within range", "Supply air only 4 °C below return"),
        ("Ductwork sealed and insulated", "Duct joint open in the ceiling space"),
        ("Condensate drains clear", "Condensate line dripping into the ceiling"),
        ("Refrigerant lines insulated", "Insulation missing on the suction line"),
        ("Outdoor unit clear of obstructions", "Outdoor unit boxed in by a fence"),
        ("Exhaust fans vent to exterior", "Exhaust fan discharges into the roof space"),
        ("Boiler service tag current", "Service tag expired"),
    ),
    "Interior": (
        ("Walls and ceilings free of stains", "Water stain on the ceiling below the bathroom"),
        ("No evidence of mould", "Mould on the bedroom window reveal"),
        ("Floors level, coverings secure", "Loose carpet at the stair nosing"),
        ("Doors operate freely", "Door binds on its frame"),
        ("Windows open and lock", "Window lock broken in bedroom 1"),
        ("Stair handrails secure", "Handrail loose at the top landing"),
        ("Wet-area waterproofing intact", "Grout cracked along the shower hob"),
        ("Kitchen extraction operational", "Range hood fan not working"),
        ("Ceiling fans secure", "Fan wobbles on high speed"),
    ),
    "Safety": (
        ("Smoke alarms present on each level", "Smoke alarm missing on the upper level"),
        ("Carbon monoxide detectors installed", "No CO detector near the gas heater"),
        ("Balustrade height at least 1 m", "Balustrade only 850 mm high"),
        ("Glazing in doors is safety glass", "No safety glass mark on the sidelight"),
        ("Window restrictors above ground floor", "Window restrictor missing in bedroom 2"),
        ("Trip hazards removed", "Extension lead across the corridor"),
        ("First aid kit stocked", "First aid kit empty"),
        ("Hazardous materials register available", "No asbestos register on site"),
        ("Pool barrier compliant", "Pool gate does not self-close"),
    ),
    "Fire Protection": (
        ("Fire alarm panel shows no faults", "Panel shows a zone 3 fault"),
        ("Fire extinguishers tagged and in date", "Extinguisher tag expired"),
        ("Fire blanket in kitchen", "Fire blanket missing"),
        ("Hose reels accessible", "Hose reel blocked by pallets"),
        ("Sprinkler heads unobstructed", "Sprinkler head painted over"),
        ("Fire doors self-close and latch", "Fire door wedged open"),
        ("Penetrations in fire walls sealed", "Unsealed cable penetration in the fire wall"),
        ("Exit signs illuminated", "Exit sign not illuminated"),
        ("Evacuation plan displayed", "Evacuation plan out of date"),
    ),
    "Accessibility": (
        ("Accessible parking space marked", "Accessible parking sign missing"),
        ("Clear path of travel to entrance", "Path of travel obstructed by bins"),
        ("Ramp gradient within limits", "Ramp gradient steeper than 1:14"),
        ("Handrails on both sides of ramp", "Handrail on one side only"),
        ("Door widths at least 850 mm", "Toilet door clear width 760 mm"),
        ("Accessible toilet grab rails secure", "Grab rail loose"),
        ("Tactile indicators at stairs", "Tactile indicators worn away"),
        ("Lift buttons within reach", "Top button 1,450 mm above floor"),
        ("Braille signage at lift lobby", "No braille on the lobby sign"),
    ),
    "Elevators": (
        ("Lift certificate displayed", "Certificate expired last month"),
        ("Car levelling accurate", "Car stops about 20 mm below the landing"),
        ("Door sensors operational", "Door closed on the test object"),
        ("Emergency phone connected", "Emergency phone does not answer"),
        ("Car lighting operational", "One car light out"),
        ("Machine room secure and ventilated", "Machine room door unlocked"),
        ("Pit dry and clean", "Water in the lift pit"),
        ("Maintenance log up to date", "No entries for three months"),
    ),
}
CHECKLIST: dict[str, tuple[str, ...]] = {
    section: tuple(title for title, _ in items) for section, items in _TEMPLATE.items()
}
_DEFECT = {title: defect for items in _TEMPLATE.values() for title, defect in items}
SECTIONS: tuple[str, ...] = tuple(CHECKLIST)
# Every checklist has these; the others are picked per building.
_CORE_SECTIONS = ("Exterior", "Roof", "Structure", "Electrical", "Safety")

_ACTIONS = (
    "Rectify within 14 days.",
    "Contractor to quote.",
    "Re-inspect at next visit.",
    "Urgent: made safe on site, repair required.",
    "Owner notified on site.",
    "Refer to licensed trade.",
)
_PASS_NOTES = (
    "Satisfactory.",
    "Good condition.",
    "Recently serviced.",
    "Minor wear; monitor at next inspection.",
    "Checked with owner present.",
    "Photos taken for the record.",
)
_NA_NOTES = (
    "Not present at this property.",
    "No access on the day.",
    "Not applicable to this building type.",
    "Covered by a separate specialist report.",
)
_PENDING_NOTES = (
    "Awaiting access from site manager.",
    "Return with a ladder.",
    "Check after rain.",
)
_PHOTO_VIEWS = (
    "overview",
    "detail",
    "close-up",
    "north elevation",
    "south elevation",
    "east side",
    "west side",
    "from ground level",
    "wide angle",
    "label",
)
# Large-inspection titles repeat the template per location: "<title> — Tower A".
_LOCATION_SEP = " — "
_LARGE_LOCATIONS = (
    "Tower A",
    "Tower B",
    "Podium",
    "Basement B1",
    "Basement B2",
    "Level 12",
    "Plant room",
    "Roof terrace",
)
_SITE_PREFIXES = (
    "Maple Court",
    "Riverside",
    "Oakwood",
    "Granite Hill",
    "Cedar Park",
    "Kingsway",
    "Northgate",
    "Willow Bend",
    "Bayview",
    "Station Road",
    "Elm Street",
    "Lakeside",
)
_SITE_KINDS = (
    "Apartments",
    "Primary School",
    "Medical Centre",
    "Business Park",
    "Community Hall",
    "Warehouse",
    "Public Library",
    "Office Tower",
    "Sports Centre",
    "Residences",
    "Retail Arcade",
    "Care Home",
)
_STREETS = (
    "Harbour",
    "Cedar",
    "Main",
    "Pine",
    "Jefferson",
    "Lincoln",
    "Ridge",
    "Mill",
    "Orchard",
    "Franklin",
    "Church",
    "Spring",
    "Union",
    "Hillcrest",
)
_STREET_TYPES = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Court")
_CITIES = (
    ("Portland, OR", "972"),
    ("Springfield, IL", "627"),
    ("Madison, WI", "537"),
    ("Burlington, VT", "054"),
    ("Boise, ID", "837"),
    ("Asheville, NC", "288"),
)
_INSPECTORS = (
    "Maria Alvarez",
    "James O'Connor",
    "Priya Natarajan",
    "Tomasz Nowak",
    "Aisha Bello",
    "Daniel Kim",
    "Sophie Laurent",
    "Ethan Brooks",
)
# Photos per item 0..8 on a typical inspection (index = count).
_PHOTO_COUNT_WEIGHTS = (26, 22, 16, 11, 8, 6, 5, 3, 3)
MAX_PHOTOS_PER_ITEM = len(_PHOTO_COUNT_WEIGHTS) - 1
# Photos of one inspection are taken within this many seconds of its start (same day).
_DAY_BUDGET_S = 9 * 3600
_INSERT_CHUNK = 1000


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


def database_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(text("SELECT EXISTS (SELECT 1 FROM inspections)")).scalar_one()


def clear_data(engine: Engine) -> None:
    """Empty the three tables and restart their ids. Photo files stay (they are reused)."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE media, checklist_items, inspections RESTART IDENTITY CASCADE"))


def generate_demo(
    engine: Engine,
    media_root: Path,
    spec: DemoSpec = DemoSpec(),  # frozen: a shared default is safe
    progress: ProgressCallback | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo dataset and write its photos.

    Blocking (call it off the GUI thread). The rows go in one transaction: an exception,
    including one raised by `progress` to cancel, leaves the database as it was.
    """
    started = time.perf_counter()
    report: ProgressCallback = progress or _no_progress
    if not database_is_empty(engine):
        raise DemoDataExists(
            "the database already holds inspections; clear it first (demo --reset) to load the demo"
        )
    media_root = Path(media_root)
    root_rng = random.Random(spec.seed)
    rows_seed = root_rng.getrandbits(64)
    photos_seed = root_rng.getrandbits(64)

    pool = _ensure_photo_pool(media_root, spec, photos_seed, report)
    bad_bytes = _write_bad_files(media_root, pool)

    report("Planning inspections", 0, 1)
    rows = _Planner(random.Random(rows_seed), spec, pool).build()
    report("Planning inspections", 1, 1)

    with engine.begin() as conn:
        # Serialises two generators racing on one database; the emptiness check then holds.
        conn.execute(text("LOCK TABLE inspections IN SHARE ROW EXCLUSIVE MODE"))
        if conn.execute(text("SELECT EXISTS (SELECT 1 FROM inspections)")).scalar_one():
            raise DemoDataExists("the database already holds inspections")
        _insert(conn, "inspections", rows.inspections, "Writing inspections", report)
        _insert(conn, "checklist_items", rows.items, "Writing checklist items", report)
        _insert(conn, "media", rows.media, "Writing photo records", report)
        for table in ("inspections", "checklist_items", "media"):
            # Ids were given explicitly: move the identity on so later inserts do not collide.
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            )
    report("Updating statistics", 0, 1)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE inspections, checklist_items, media"))
    report("Updating statistics", 1, 1)

    return DemoSummary(
        inspections=len(rows.inspections),
        checklist_items=len(rows.items),
        media=len(rows.media),
        image_files=len(pool),
        bad_media=rows.bad_media,
        soft_deleted=rows.soft_deleted,
        bytes_on_disk=sum(p.byte_size for p in pool) + bad_bytes,
        large_reference=LARGE_INSPECTION_REFERENCE,
        seconds=time.perf_counter() - started,
    )


def _no_progress(label: str, done: int, total: int) -> None:
    pass


def _insert(
    conn: Connection,
    table_name: str,
    rows: Sequence[dict[str, Any]],
    label: str,
    report: ProgressCallback,
) -> None:
    table: Table = Base.metadata.tables[table_name]
    report(label, 0, len(rows))
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        conn.execute(insert(table), list(chunk))
        report(label, start + len(chunk), len(rows))


# --- Photos -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PhotoJob:
    index: int
    seed: int
    section: str
    width: int  # as stored in the file
    height: int
    orientation: int | None
    full_size: bool


@dataclass(frozen=True)
class _PoolPhoto:
    """One distinct JPEG file of the demo, shared by many media rows."""

    index: int
    section: str
    storage_key: str
    sha256: str
    byte_size: int
    width: int
    height: int
    orientation: int | None


def _photo_jobs(spec: DemoSpec, photos_seed: int) -> list[_PhotoJob]:
    jobs = []
    total = spec.full_size_photos + spec.small_photos
    for index in range(total):
        full = index < spec.full_size_photos
        formats = FULL_SIZE_FORMATS if full else SMALL_FORMATS
        n = index if full else index - spec.full_size_photos
        width, height, orientation = formats[n % len(formats)]
        jobs.append(
            _PhotoJob(
                index=index,
                seed=photos_seed + index,
                section=SECTIONS[index % len(SECTIONS)],
                width=width,
                height=height,
                orientation=orientation,
                full_size=full,
            )
        )
    return jobs


def _manifest_path(media_root: Path, spec: DemoSpec) -> Path:
    name = (
        f".pool-v{GENERATOR_VERSION}-{spec.seed}-{spec.full_size_photos}-{spec.small_photos}.json"
    )
    return media_root / DEMO_PREFIX / name


def _load_manifest(path: Path) -> dict[int, _PoolPhoto]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {int(e["index"]): _PoolPhoto(**e) for e in raw["photos"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _file_matches(media_root: Path, photo: _PoolPhoto) -> bool:
    path = media_root / photo.storage_key
    try:
        if path.stat().st_size != photo.byte_size:
            return False
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == photo.sha256
    except OSError:
        return False


def _ensure_photo_pool(
    media_root: Path, spec: DemoSpec, photos_seed: int, report: ProgressCallback
) -> list[_PoolPhoto]:
    """The pool of photo files: reused when the manifest's files are intact, else encoded."""
    label = "Generating photos"
    jobs = _photo_jobs(spec, photos_seed)
    manifest = _manifest_path(media_root, spec)
    known = _load_manifest(manifest)
    done: dict[int, _PoolPhoto] = {}
    todo: list[_PhotoJob] = []
    for job in jobs:
        photo = known.get(job.index)
        if photo is not None and _file_matches(media_root, photo):
            done[job.index] = photo
        else:
            todo.append(job)
    report(label, len(done), len(jobs))
    if todo:
        # Pillow releases the GIL in its heavy loops (resize, channel operations, JPEG encoding):
        # threads use both cores without the start-up cost and fork hazards of processes in a
        # GUI app. Each photo has its own seed, so the bytes do not depend on the scheduling.
        # Two at most: a 12 MP photo needs ~150 MB of intermediate images while it is drawn.
        workers = max(1, min(len(todo), os.cpu_count() or 1, 2))
        ex = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="demo-photo")
        try:
            futures = [ex.submit(_encode_and_store, media_root, job) for job in todo]
            for future in futures:
                photo = future.result()
                done[photo.index] = photo
                report(label, len(done), len(jobs))
        finally:
            # A cancel (an exception from `report`) should not wait for the photos still queued.
            ex.shutdown(wait=True, cancel_futures=True)
    pool = [done[job.index] for job in jobs]
    if todo:
        payload = {"version": GENERATOR_VERSION, "photos": [asdict(p) for p in pool]}
        _write_atomic(manifest, json.dumps(payload, indent=1).encode("utf-8"))
    return pool


def _encode_and_store(media_root: Path, job: _PhotoJob) -> _PoolPhoto:
    data = _encode_photo(job)
    sha = hashlib.sha256(data).hexdigest()
    key = f"{DEMO_PREFIX}/{sha[:2]}/{sha}.jpg"
    photo = _PoolPhoto(
        index=job.index,
        section=job.section,
        storage_key=key,
        sha256=sha,
        byte_size=len(data),
        width=job.width,
        height=job.height,
        orientation=job.orientation,
    )
    if not _file_matches(media_root, photo):  # else: same bytes already there (lost manifest)
        _write_atomic(media_root / key, data)
    return photo


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_bad_files(media_root: Path, pool: Sequence[_PoolPhoto]) -> int:
    """The damaged files behind the bad media rows; returns their total size in bytes."""
    (media_root / BAD_MEDIA_KEYS["missing"]).unlink(missing_ok=True)
    source = _bad_source(pool)
    whole = (media_root / source.storage_key).read_bytes()
    contents = {
        "truncated": whole[: int(len(whole) * TRUNCATED_FRACTION)],
        "empty": b"",
        "not_image": NOT_AN_IMAGE_TEXT.encode("utf-8"),
    }
    for kind, data in contents.items():
        path = media_root / BAD_MEDIA_KEYS[kind]
        if not (path.is_file() and path.read_bytes() == data):
            _write_atomic(path, data)
    return sum(len(d) for d in contents.values())


def _bad_source(pool: Sequence[_PoolPhoto]) -> _PoolPhoto:
    # A small photo: the truncated copy stays small, and its claimed metadata is plausible.
    return min(pool, key=lambda p: (p.byte_size > 2_000_000, p.index))


_SKIES = (
    ((62, 112, 186), (176, 206, 236)),  # clear
    ((118, 124, 134), (204, 204, 208)),  # overcast
    ((54, 76, 138), (236, 178, 128)),  # late afternoon
    ((92, 146, 206), (214, 228, 240)),  # hazy
)
_GROUNDS = (
    ((86, 122, 58), (44, 72, 32)),  # grass
    ((104, 104, 108), (62, 62, 66)),  # asphalt
    ((150, 138, 118), (104, 96, 84)),  # gravel
    ((168, 164, 156), (120, 118, 112)),  # concrete
)
_WALLS = (
    (152, 74, 58),  # brick
    (212, 196, 166),  # render
    (168, 168, 162),  # concrete
    (134, 98, 64),  # timber
    (92, 112, 142),  # panels
    (226, 222, 212),  # painted
)
_ROOFS = ((58, 58, 62), (150, 72, 50), (92, 96, 88), (40, 52, 70))


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _jitter(rng: random.Random, c: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    return (
        max(0, min(255, c[0] + rng.randint(-amount, amount))),
        max(0, min(255, c[1] + rng.randint(-amount, amount))),
        max(0, min(255, c[2] + rng.randint(-amount, amount))),
    )


def _render_photo(job: _PhotoJob) -> Image.Image:
    """The picture upright, as a viewer shows it after applying the EXIF orientation."""
    rng = random.Random(job.seed)
    w, h = (job.height, job.width) if job.orientation in (6, 8) else (job.width, job.height)

    # Sky and ground: a one-pixel column of gradients stretched sideways (fast at 12 MP).
    horizon = int(h * rng.uniform(0.58, 0.74))
    sky_top, sky_low = _SKIES[rng.randrange(len(_SKIES))]
    ground_near, ground_far = _GROUNDS[rng.randrange(len(_GROUNDS))]
    column = [
        _mix(sky_top, sky_low, y / horizon)
        if y < horizon
        else _mix(ground_far, ground_near, (y - horizon) / max(1, h - horizon))
        for y in range(h)
    ]
    strip = Image.new("RGB", (1, h))
    strip.putdata(column)
    img = strip.resize((w, h), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)

    # Clouds and the odd tree.
    for _ in range(rng.randint(0, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(0.05, 0.35) * h
        rx, ry = rng.uniform(0.06, 0.16) * w, rng.uniform(0.02, 0.05) * h
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=_jitter(rng, (236, 238, 242), 8))

    # The building: front wall, shaded side wall, roof, gutter and downpipe, windows, door.
    wall = _jitter(rng, _WALLS[rng.randrange(len(_WALLS))], 12)
    roof = _jitter(rng, _ROOFS[rng.randrange(len(_ROOFS))], 8)
    x0 = int(w * rng.uniform(0.06, 0.22))
    x1 = int(w * rng.uniform(0.62, 0.8))
    side = int(w * rng.uniform(0.06, 0.14))
    floor_h = int(h * rng.uniform(0.09, 0.14) * (1.4 if w < h else 1.0))
    bottom = horizon + int(h * rng.uniform(0.03, 0.08))
    # Leave the top fifth to the sky (and the caption).
    floors = max(1, min(rng.randint(1, 5), (bottom - int(h * 0.2)) // floor_h))
    top = bottom - floors * floor_h
    skew = int(floor_h * 0.25)
    draw.rectangle((x0, top, x1, bottom), fill=wall)
    draw.polygon(
        [(x1, top), (x1 + side, top - skew), (x1 + side, bottom - skew), (x1, bottom)],
        fill=_mix(wall, (0, 0, 0), 0.35),
    )
    overhang = int(w * 0.02)
    if rng.random() < 0.6:  # gable roof
        peak = top - int(floor_h * rng.uniform(0.7, 1.3))
        draw.polygon(
            [(x0 - overhang, top), ((x0 + x1) // 2, peak), (x1 + overhang, top)], fill=roof
        )
        draw.polygon(
            [((x0 + x1) // 2, peak), (x1 + side, top - skew), (x1 + overhang, top)],
            fill=_mix(roof, (0, 0, 0), 0.3),
        )
    else:  # flat roof with parapet
        draw.rectangle((x0 - overhang, top - floor_h // 5, x1 + overhang, top), fill=roof)
    gutter = max(3, h // 300)
    draw.line(
        (x0 - overhang, top + gutter, x1 + overhang, top + gutter),
        fill=(70, 70, 74),
        width=gutter * 2,
    )
    draw.line((x1 - 3 * gutter, top, x1 - 3 * gutter, bottom), fill=(78, 78, 82), width=gutter * 2)

    cols = rng.randint(3, 7)
    span = (x1 - x0) / cols
    glass = _jitter(rng, (44, 60, 82), 10)
    frame = max(2, h // 500)
    for f in range(floors):
        fy0 = bottom - (f + 1) * floor_h + int(floor_h * 0.22)
        fy1 = bottom - f * floor_h - int(floor_h * 0.25)
        for c in range(cols):
            if f == 0 and c == cols // 2:
                door = (
                    int(x0 + c * span + span * 0.28),
                    fy0,
                    int(x0 + (c + 1) * span - span * 0.28),
                    bottom,
                )
                draw.rectangle(door, fill=_mix(wall, (30, 20, 10), 0.6))
                continue
            wx0, wx1 = int(x0 + c * span + span * 0.2), int(x0 + (c + 1) * span - span * 0.2)
            draw.rectangle((wx0, fy0, wx1, fy1), fill=glass, outline=(236, 236, 230), width=frame)
            draw.rectangle(
                (wx0 + frame, fy0 + frame, wx1 - frame, (fy0 + fy1) // 2),
                fill=_mix(glass, sky_low, 0.35),
            )
    for _ in range(rng.randint(0, 3)):
        tx = rng.uniform(0, w)
        tr = rng.uniform(0.04, 0.09) * w
        ty = horizon + rng.uniform(0.0, 0.12) * h
        draw.rectangle((tx - tr * 0.08, ty - tr * 0.3, tx + tr * 0.08, ty + tr), fill=(82, 60, 40))
        draw.ellipse((tx - tr, ty - 1.9 * tr, tx + tr, ty), fill=_jitter(rng, (58, 98, 52), 14))

    img = _add_texture(img, rng)
    _draw_caption(img, job)
    return img


def _add_texture(img: Image.Image, rng: random.Random) -> Image.Image:
    """Blotchy low-frequency light variation plus fine sensor-like grain, from `rng` only."""
    w, h = img.size
    sw, sh = max(2, w // 48), max(2, h // 48)
    blotches = Image.frombytes("L", (sw, sh), rng.randbytes(sw * sh)).point(lambda v: v // 12)
    tile_size = 128
    grain_tile = Image.frombytes("L", (tile_size, tile_size), rng.randbytes(tile_size**2))
    grain_tile = grain_tile.point(lambda v: v % 13)
    grain = Image.new("L", (w, h))
    for gx in range(0, w, tile_size):
        for gy in range(0, h, tile_size):
            grain.paste(grain_tile, (gx, gy))
    # One single-channel layer (0..33) added to all three channels, centred on zero.
    layer = ImageChops.add(blotches.resize((w, h), Image.Resampling.BILINEAR), grain)
    del grain  # memory: 12 MB per 12 MP photo, per worker
    return ImageChops.add(img, Image.merge("RGB", (layer, layer, layer)), scale=1.0, offset=-16)


def _draw_caption(img: Image.Image, job: _PhotoJob) -> None:
    w, h = img.size
    draw = ImageDraw.Draw(img)
    margin = max(10, w // 40)
    caption = f"{job.section} · {job.index + 1}"
    size = max(24, h // 10)
    big = ImageFont.load_default(size=size)
    width = big.getlength(caption)
    if width > w - 2 * margin:  # long section names on portrait photos
        big = ImageFont.load_default(size=max(12, int(size * (w - 2 * margin) / width)))
    small = ImageFont.load_default(size=max(12, min(h // 36, w // 40)))
    draw.text(
        (margin, margin),
        caption,
        font=big,
        fill=(255, 255, 255),
        stroke_width=max(2, h // 200),
        stroke_fill=(20, 20, 20),
    )
    tag = "none" if job.orientation is None else str(job.orientation)
    note = f"stored {job.width}x{job.height} · EXIF orientation {tag} · upright if handled"
    draw.text(
        (margin, h - margin - h // 30),
        note,
        font=small,
        fill=(255, 255, 255),
        stroke_width=max(1, h // 600),
        stroke_fill=(20, 20, 20),
    )


# To store the upright picture so that a viewer applying `orientation` shows it upright.
_STORE_TRANSPOSE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def _encode_photo(job: _PhotoJob) -> bytes:
    img = _render_photo(job)
    transpose = _STORE_TRANSPOSE.get(job.orientation or 1)
    if transpose is not None:
        img = img.transpose(transpose)
    assert img.size == (job.width, job.height)
    exif = Image.Exif()
    exif[0x010F] = "Inspection Viewer"  # Make
    exif[0x0110] = "Demo camera"  # Model
    exif[0x0131] = f"inspection-viewer demo v{GENERATOR_VERSION}"  # Software
    if job.orientation is not None:
        exif[EXIF_ORIENTATION] = job.orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, exif=exif.tobytes())
    return buf.getvalue()


# --- Rows ---------------------------------------------------------------------------------------


@dataclass
class _Rows:
    inspections: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    bad_media: int = 0
    soft_deleted: int = 0


@dataclass
class _InspectionPlan:
    kind: str  # "typical", "large" or "bad"
    scheduled_at: datetime
    status: str
    reference_code: str = ""


class _Planner:
    """Turns the seed into rows: inspections by date, their checklists, their photos."""

    def __init__(self, rng: random.Random, spec: DemoSpec, pool: Sequence[_PoolPhoto]) -> None:
        self.rng = rng
        self.spec = spec
        self.pool = list(pool)
        self.by_section: dict[str, list[_PoolPhoto]] = {}
        for photo in self.pool:
            self.by_section.setdefault(photo.section, []).append(photo)
        self.rows = _Rows()

    def build(self) -> _Rows:
        plans = self._plan_inspections()
        sites = self._sites(len(plans))
        soft_delete_in = self._soft_delete_targets(plans)
        for inspection_id, plan in enumerate(plans, start=1):
            self._inspection(
                inspection_id,
                plan,
                sites[inspection_id - 1],
                soft_delete=inspection_id in soft_delete_in,
            )
        return self.rows

    # Inspections --------------------------------------------------------------------------------

    def _plan_inspections(self) -> list[_InspectionPlan]:
        rng = self.rng
        plans = [
            _InspectionPlan(
                "large",
                _at(ANCHOR - timedelta(days=6), 7, 30),
                "in_progress",
                LARGE_INSPECTION_REFERENCE,
            ),
            _InspectionPlan(
                "bad",
                _working_day(ANCHOR - timedelta(days=rng.randint(18, 40)), rng),
                "completed",
                BAD_MEDIA_INSPECTION_REFERENCE,
            ),
        ]
        for _ in range(self.spec.inspections - 2):
            # About 18 months: 16 back from the anchor, 2 ahead (scheduled drafts).
            day = ANCHOR + timedelta(days=rng.randint(-485, 60))
            scheduled = _working_day(day, rng)
            plans.append(_InspectionPlan("typical", scheduled, self._status_for(scheduled)))
        plans.sort(key=lambda p: (p.scheduled_at, p.reference_code))
        reserved = {LARGE_INSPECTION_REFERENCE, BAD_MEDIA_INSPECTION_REFERENCE}
        counters: dict[int, int] = {}
        for plan in plans:
            if plan.reference_code:
                continue
            year = plan.scheduled_at.year
            number = counters.get(year, rng.randint(96, 130))
            code = ""
            while not code or code in reserved:
                number += rng.randint(1, 6)
                code = f"INS-{year}-{number:04d}"
            counters[year] = number
            plan.reference_code = code
        return plans

    def _status_for(self, scheduled: datetime) -> str:
        age = (ANCHOR - scheduled).days
        roll = self.rng.random()
        if scheduled > ANCHOR:
            return InspectionStatus.DRAFT.value
        if age < 30:
            if roll < 0.15:
                return InspectionStatus.DRAFT.value
            return (
                InspectionStatus.IN_PROGRESS.value
                if roll < 0.6
                else InspectionStatus.COMPLETED.value
            )
        if age < 365:
            return (
                InspectionStatus.IN_PROGRESS.value
                if roll < 0.06
                else InspectionStatus.COMPLETED.value
            )
        return InspectionStatus.ARCHIVED.value if roll < 0.75 else InspectionStatus.COMPLETED.value

    def _sites(self, count: int) -> list[tuple[str, str]]:
        rng = self.rng
        names = [f"{p} {k}" for p in _SITE_PREFIXES for k in _SITE_KINDS]
        rng.shuffle(names)
        sites = []
        for i in range(count):
            name = names[i % len(names)]
            if i >= len(names):
                name = f"{name} (Building {i // len(names) + 1})"
            city, zip_prefix = _CITIES[rng.randrange(len(_CITIES))]
            street = f"{rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
            address = (
                f"{rng.randint(2, 2980)} {street}, {city} {zip_prefix}{rng.randint(1, 99):02d}"
            )
            sites.append((name, address))
        return sites

    def _soft_delete_targets(self, plans: Sequence[_InspectionPlan]) -> set[int]:
        candidates = [
            i
            for i, p in enumerate(plans, start=1)
            if p.kind == "typical" and p.status != InspectionStatus.DRAFT.value
        ]
        chosen = set(self.rng.sample(candidates, min(4, len(candidates))))
        chosen.add(next(i for i, p in enumerate(plans, start=1) if p.kind == "large"))
        return chosen

    def _inspection(
        self, inspection_id: int, plan: _InspectionPlan, site: tuple[str, str], *, soft_delete: bool
    ) -> None:
        rng = self.rng
        site_name, address = site
        if plan.kind == "large":
            site_name, address = "Harbourview Towers", "1 Harbourview Plaza, Portland, OR 97209"
        completed_at: datetime | None = None
        status = plan.status
        if status in (InspectionStatus.COMPLETED.value, InspectionStatus.ARCHIVED.value):
            completed_at = (
                plan.scheduled_at
                + timedelta(hours=rng.randint(3, 9), minutes=rng.randint(0, 59))
                + timedelta(days=rng.choice((0, 0, 0, 1, 2, 5)))
            )
            if completed_at > ANCHOR:
                status, completed_at = InspectionStatus.IN_PROGRESS.value, None
        created_at = _at(
            plan.scheduled_at - timedelta(days=rng.randint(3, 40)),
            rng.randint(8, 16),
            rng.randrange(0, 60, 5),
        )
        first_item = len(self.rows.items)
        self._checklist(inspection_id, plan, status)
        items = self.rows.items[first_item:]
        last_photo = self._photos(inspection_id, plan, items, soft_delete=soft_delete)
        if completed_at is not None:
            updated_at = completed_at
        elif status == InspectionStatus.IN_PROGRESS.value:
            updated_at = min(ANCHOR, last_photo or plan.scheduled_at + timedelta(hours=2))
        else:
            updated_at = created_at
        self.rows.inspections.append(
            {
                "id": inspection_id,
                "reference_code": plan.reference_code,
                "site_name": site_name,
                "address": address,
                "inspector_name": rng.choice(_INSPECTORS),
                "status": status,
                "scheduled_at": plan.scheduled_at,
                "completed_at": completed_at,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        for row in items:
            if row["result"] == ItemResult.PENDING.value:
                row["updated_at"] = created_at

    # Checklist ---------------------------------------------------------------------------------

    def _checklist(self, inspection_id: int, plan: _InspectionPlan, status: str) -> None:
        rng = self.rng
        entries = self._large_titles() if plan.kind == "large" else self._typical_titles()
        fail_rate = rng.uniform(0.03, 0.18)
        na_rate = rng.uniform(0.04, 0.14)
        progress = rng.uniform(0.3, 0.9) if plan.kind != "large" else 0.85
        for position, (section, title) in enumerate(entries, start=1):
            done_share = position / len(entries)
            if status == InspectionStatus.DRAFT.value:
                pending = plan.scheduled_at > ANCHOR or rng.random() < 0.9
            elif status == InspectionStatus.IN_PROGRESS.value:
                pending = done_share > progress or rng.random() < 0.04
            else:
                pending = False
            if pending:
                result = ItemResult.PENDING.value
            else:
                roll = rng.random()
                result = (
                    ItemResult.FAIL.value
                    if roll < fail_rate
                    else ItemResult.NA.value
                    if roll < fail_rate + na_rate
                    else ItemResult.PASS.value
                )
            item_id = len(self.rows.items) + 1
            self.rows.items.append(
                {
                    "id": item_id,
                    "inspection_id": inspection_id,
                    "section": section,
                    "position": position,
                    "title": title,
                    "result": result,
                    "notes": self._note(title, result),
                    # Pending ones get the inspection's created_at in _inspection.
                    "updated_at": plan.scheduled_at + timedelta(seconds=40 * position + 600),
                }
            )

    def _note(self, title: str, result: str) -> str | None:
        rng = self.rng
        if result == ItemResult.FAIL.value:
            return f"{_DEFECT[title.split(_LOCATION_SEP)[0]]}. {rng.choice(_ACTIONS)}"
        if result == ItemResult.PASS.value and rng.random() < 0.12:
            return rng.choice(_PASS_NOTES)
        if result == ItemResult.NA.value and rng.random() < 0.5:
            return rng.choice(_NA_NOTES)
        if result == ItemResult.PENDING.value and rng.random() < 0.05:
            return rng.choice(_PENDING_NOTES)
        return None

    def _typical_titles(self) -> list[tuple[str, str]]:
        rng = self.rng
        count = rng.randint(15, 45)
        optional = [s for s in SECTIONS if s not in _CORE_SECTIONS]
        fewest = max(1, math.ceil(count / 7) - len(_CORE_SECTIONS))
        extra = rng.sample(optional, rng.randint(fewest, max(fewest, 5)))
        chosen = [s for s in SECTIONS if s in _CORE_SECTIONS or s in extra]
        # Guarantee room for `count` titles, then share them out, at least one per section.
        while sum(len(CHECKLIST[s]) for s in chosen) < count:
            missing = [s for s in SECTIONS if s not in chosen]
            chosen = [s for s in SECTIONS if s in chosen or s == missing[0]]
        count = max(count, len(chosen))
        per = dict.fromkeys(chosen, 1)
        for _ in range(count - len(chosen)):
            open_sections = [s for s in chosen if per[s] < len(CHECKLIST[s])]
            per[rng.choice(open_sections)] += 1
        entries: list[tuple[str, str]] = []
        for section in chosen:
            titles = CHECKLIST[section]
            picked = sorted(rng.sample(range(len(titles)), per[section]))
            entries.extend((section, titles[i]) for i in picked)
        return entries

    def _large_titles(self) -> list[tuple[str, str]]:
        total = self.spec.large_items
        base, extra = divmod(total, len(SECTIONS))
        entries: list[tuple[str, str]] = []
        for n, section in enumerate(SECTIONS):
            wanted = base + (1 if n < extra else 0)
            titles = CHECKLIST[section]
            for k in range(wanted):
                title = titles[k % len(titles)]
                round_no, loc_no = divmod(k // len(titles), len(_LARGE_LOCATIONS))
                where = _LARGE_LOCATIONS[loc_no]
                if round_no:
                    where = f"{where}, round {round_no + 1}"
                entries.append((section, f"{title}{_LOCATION_SEP}{where}"))
        return entries

    # Photos ------------------------------------------------------------------------------------

    def _photos(
        self,
        inspection_id: int,
        plan: _InspectionPlan,
        items: Sequence[dict[str, Any]],
        *,
        soft_delete: bool,
    ) -> datetime | None:
        rng = self.rng
        counts = self._photo_counts(plan, items)
        kinds: list[list[str]] = [["good"] * c for c in counts]
        if plan.kind == "bad":
            # All broken rows on one item, among good photos, so one click shows every error.
            target = next(
                (i for i, r in enumerate(items) if r["result"] != ItemResult.PENDING.value), 0
            )
            row_kinds = ["good"] * min(4, max(1, counts[target])) + list(BAD_MEDIA_KEYS)
            rng.shuffle(row_kinds)
            kinds[target] = row_kinds
        total = sum(len(k) for k in kinds)
        if total == 0:
            return None

        # Gaps between shots: walking to the next item, then a few seconds per photo; scaled
        # down when a big inspection would not fit in one working day.
        large = plan.kind == "large"
        gaps: list[float] = []
        for item_kinds in kinds:
            for n in range(len(item_kinds)):
                walk = rng.uniform(10, 60) if large else rng.uniform(30, 150)
                gaps.append((walk if n == 0 else 0.0) + rng.uniform(3, 15 if large else 30))
        scale = min(1.0, _DAY_BUDGET_S / sum(gaps))
        clock = plan.scheduled_at
        soft_quota = (3 if large else rng.randint(1, 3)) if soft_delete else 0
        first_id = len(self.rows.media) + 1
        gap_iter = iter(gaps)
        for item, item_kinds in zip(items, kinds, strict=True):
            for kind in item_kinds:
                clock += timedelta(seconds=max(1, round(next(gap_iter) * scale)))
                self.rows.media.append(self._media_row(inspection_id, item, kind, clock))
        last = clock
        if soft_quota:
            good = [
                r
                for r in self.rows.media[first_id - 1 :]
                if not r["storage_key"].startswith(f"{DEMO_PREFIX}/bad/")
            ]
            for row in rng.sample(good, min(soft_quota, len(good))):
                row["deleted_at"] = row["created_at"] + timedelta(minutes=rng.randint(2, 90))
                row["caption"] = "Blurry, retaken"
                self.rows.soft_deleted += 1
        return last

    def _photo_counts(self, plan: _InspectionPlan, items: Sequence[dict[str, Any]]) -> list[int]:
        rng = self.rng
        if plan.kind == "large":
            # The large one: spec.large_media live photos plus 3 soft-deleted, spread unevenly.
            total = self.spec.large_media + 3
            weights = [
                rng.uniform(0.3, 3.0) * (2.5 if r["result"] == ItemResult.FAIL.value else 1)
                for r in items
            ]
            counts = [0] * len(items)
            for i in rng.choices(range(len(items)), weights=weights, k=total):
                counts[i] += 1
            return counts
        if plan.scheduled_at > ANCHOR:
            return [0] * len(items)  # not visited yet
        counts = []
        for row in items:
            if row["result"] == ItemResult.PENDING.value and rng.random() < 0.9:
                counts.append(0)
                continue
            n = rng.choices(range(MAX_PHOTOS_PER_ITEM + 1), weights=_PHOTO_COUNT_WEIGHTS)[0]
            if row["result"] == ItemResult.FAIL.value:
                n = min(MAX_PHOTOS_PER_ITEM, n + 1)
            counts.append(n)
        return counts

    def _media_row(
        self, inspection_id: int, item: dict[str, Any], kind: str, captured_at: datetime
    ) -> dict[str, Any]:
        rng = self.rng
        if kind == "good":
            candidates = self.by_section.get(item["section"]) or self.pool
            photo = rng.choice(candidates)
            key, caption = photo.storage_key, self._caption(item)
        else:
            photo = _bad_source(self.pool)  # what the file was supposed to be
            key, caption = BAD_MEDIA_KEYS[kind], _BAD_CAPTIONS[kind]
            self.rows.bad_media += 1
        return {
            "id": len(self.rows.media) + 1,
            "inspection_id": inspection_id,
            "checklist_item_id": item["id"],
            "storage_key": key,
            "mime_type": MIME_JPEG,
            "width": photo.width,
            "height": photo.height,
            "byte_size": photo.byte_size,
            "sha256": photo.sha256,
            "caption": caption,
            "captured_at": captured_at,
            "created_at": captured_at + timedelta(seconds=rng.randint(5, 600)),
            "deleted_at": None,
        }

    def _caption(self, item: dict[str, Any]) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return None
        title = str(item["title"]).split(_LOCATION_SEP)[0]
        if item["result"] == ItemResult.FAIL.value and roll < 0.45:
            return f"Defect: {_DEFECT[title]}"
        return f"{title} — {rng.choice(_PHOTO_VIEWS)}"


def _at(day: datetime, hour: int, minute: int) -> datetime:
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _working_day(day: datetime, rng: random.Random) -> datetime:
    """`day` moved to the next Monday if it falls on a weekend, at a morning start time."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return _at(day, rng.randint(7, 10), rng.randrange(0, 60, 15))
