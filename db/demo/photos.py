"""The photo painter: a building under a sky, drawn with Pillow from a seed, as a camera JPEG."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFont

from db.demo.spec import GENERATOR_VERSION

EXIF_ORIENTATION = 0x0112
JPEG_QUALITY = 85

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class PhotoJob:
    index: int
    seed: int
    section: str
    width: int  # as stored in the file
    height: int
    orientation: int | None
    full_size: bool


@dataclass(frozen=True)
class _Facade:
    """Where the building's front wall is, for the windows drawn onto it."""

    x0: int
    x1: int
    bottom: int
    floor_h: int
    floors: int
    wall: Colour


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

# To store the upright picture so that a viewer applying `orientation` shows it upright.
_STORE_TRANSPOSE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def encode_photo(job: PhotoJob) -> bytes:
    """The JPEG file of `job`: stored sideways when it has an EXIF orientation, as phones do."""
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


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _jitter(rng: random.Random, c: Colour, amount: int) -> Colour:
    return (
        max(0, min(255, c[0] + rng.randint(-amount, amount))),
        max(0, min(255, c[1] + rng.randint(-amount, amount))),
        max(0, min(255, c[2] + rng.randint(-amount, amount))),
    )


def _render_photo(job: PhotoJob) -> Image.Image:
    """The picture upright, as a viewer shows it after applying the EXIF orientation.

    The parts are drawn in a fixed order from one generator: the same seed, the same picture."""
    rng = random.Random(job.seed)
    w, h = (job.height, job.width) if job.orientation in (6, 8) else (job.width, job.height)
    img, horizon, sky_low = _sky_and_ground(rng, w, h)
    draw = ImageDraw.Draw(img)
    _clouds(draw, rng, w, h)
    facade = _building(draw, rng, w, h, horizon)
    _windows(draw, rng, facade, sky_low, h)
    _trees(draw, rng, w, h, horizon)
    img = _add_texture(img, rng)
    _draw_caption(img, job)
    return img


def _sky_and_ground(rng: random.Random, w: int, h: int) -> tuple[Image.Image, int, Colour]:
    """Gradients as a one-pixel column stretched sideways (fast at 12 MP); also the horizon
    and the sky's lower colour, which the windows reflect."""
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
    return strip.resize((w, h), Image.Resampling.NEAREST), horizon, sky_low


def _clouds(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    for _ in range(rng.randint(0, 4)):
        cx, cy = rng.uniform(0, w), rng.uniform(0.05, 0.35) * h
        rx, ry = rng.uniform(0.06, 0.16) * w, rng.uniform(0.02, 0.05) * h
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=_jitter(rng, (236, 238, 242), 8))


def _building(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, horizon: int
) -> _Facade:
    """Front wall, shaded side wall, roof, gutter and downpipe."""
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
    return _Facade(x0, x1, bottom, floor_h, floors, wall)


def _windows(
    draw: ImageDraw.ImageDraw, rng: random.Random, facade: _Facade, sky_low: Colour, h: int
) -> None:
    """A grid of framed windows reflecting the sky, and a door in the middle of the ground floor."""
    x0, bottom, floor_h = facade.x0, facade.bottom, facade.floor_h
    cols = rng.randint(3, 7)
    span = (facade.x1 - x0) / cols
    glass = _jitter(rng, (44, 60, 82), 10)
    frame = max(2, h // 500)
    for f in range(facade.floors):
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
                draw.rectangle(door, fill=_mix(facade.wall, (30, 20, 10), 0.6))
                continue
            wx0, wx1 = int(x0 + c * span + span * 0.2), int(x0 + (c + 1) * span - span * 0.2)
            draw.rectangle((wx0, fy0, wx1, fy1), fill=glass, outline=(236, 236, 230), width=frame)
            draw.rectangle(
                (wx0 + frame, fy0 + frame, wx1 - frame, (fy0 + fy1) // 2),
                fill=_mix(glass, sky_low, 0.35),
            )


def _trees(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, horizon: int) -> None:
    for _ in range(rng.randint(0, 3)):
        tx = rng.uniform(0, w)
        tr = rng.uniform(0.04, 0.09) * w
        ty = horizon + rng.uniform(0.0, 0.12) * h
        draw.rectangle((tx - tr * 0.08, ty - tr * 0.3, tx + tr * 0.08, ty + tr), fill=(82, 60, 40))
        draw.ellipse((tx - tr, ty - 1.9 * tr, tx + tr, ty), fill=_jitter(rng, (58, 98, 52), 14))


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


def _draw_caption(img: Image.Image, job: PhotoJob) -> None:
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
