"""Synthetic handwriting: characters drawn as pen strokes by randomly drawn writers.

A writer is a `WriterStyle` drawn once from a seeded RNG: slant, rotation, aspect, size, pen
width and pressure, stroke-end habits (shortened or extended ends, hooks, cursive links),
how much each stroke wanders (per-stroke affine jitter), how strongly the shape is distorted
(a fixed smooth warp of the writer plus an elastic field per sample), and the ink. Each
sample adds its own randomness on top, drawn from an RNG keyed by (seed, split, writer,
class), so any single image can be regenerated alone and the output does not depend on how
the work was split between processes.

On disk, like CASIA-HWDB: one `.gnt` per writer, `<out>/<split>/wNNNN.gnt`, each holding every
requested class once, and `<out>/manifest.json` (plan, writer styles, SHA-256 of every file).
Font writers (`SynthPlan.fonts`) are extra training writers drawn from a font file instead of
strokes, with the same affine and elastic distortions.

Rendering works on the stroke medians of `model.data.strokes`: ends are varied, strokes
resampled, jittered and warped as point sets, then drawn with PIL at `SUPERSAMPLE` times the
output resolution (lines with round joints and caps, width varying along the stroke) and
box-filtered down. Distorting the skeleton rather than the image keeps the pen width constant,
as it is on paper.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.ndimage import gaussian_filter, map_coordinates

from base.rundir import sha256
from model.data.classes import LEVEL1, tag_of_class
from model.data.gnt import SYNTH_MANIFEST as MANIFEST
from model.data.gnt import SYNTH_STARTED, write_gnt
from model.data.strokes import ASSET, class_strokes

SPLITS = ("train", "test")
SUPERSAMPLE = 2  # the canvas is drawn at this multiple of the output resolution
STEP = 6.0  # resampling step along a stroke, in 256-box units
BOX = 256.0  # side of the stroke coordinate box
LINK_MAX = 90.0  # strokes further apart than this are never linked by a cursive line
SHARP_TURN = 0.3  # radians; joints turning more than this get a round disc
_SPLIT_KEY = {"train": 0, "test": 1}
_STYLE, _SAMPLE = 0, 1  # spawn-key tags that keep style and sample streams apart
GENERATOR_VERSION = 1  # bump whenever the same seed would give different images
STROKE_SOURCE = "hanzi-writer-data 2.0.1 (Make Me a Hanzi), Arphic Public License"


@dataclass(frozen=True)
class WriterStyle:
    """The habits of one writer, shared by all of its samples.

    Lengths are in 256-box units unless marked px (output pixels).
    """

    size: float  # px spanned by the 256 box (a typical character's ink is ~0.8 of it)
    aspect: float  # horizontal / vertical scale
    slant: float  # shear: x moves right by slant * height above the centre
    rotation: float  # degrees, counter-clockwise
    rise: float  # radians horizontal strokes turn counter-clockwise (rise to the right)
    width: float  # mean pen width, px
    pressure: float  # relative width variation along and between strokes
    taper: float  # relative width lost where the pen lifts
    end_var: float  # std of how far stroke ends are shortened (<0) or extended (>0)
    hook: float  # probability that a stroke ends in a hook toward the next stroke
    cursive: float  # probability of a thin link from a stroke to the next one
    jitter: float  # per-stroke affine jitter amplitude (relative)
    elastic: float  # per-sample elastic displacement amplitude
    warp: tuple[float, ...]  # six coefficients of the writer's fixed smooth distortion
    ink: float  # grey level of the ink (0 = black)
    noise: float  # std of the per-pixel grey noise of the ink

    def as_dict(self) -> dict[str, float | list[float]]:
        """The parameters, rounded for a readable manifest."""
        return {k: [round(x, 4) for x in v] if isinstance(v, tuple) else round(v, 4)
                for k, v in asdict(self).items()}


def _rng(seed: int, split: str, *key: int) -> np.random.Generator:
    if split not in _SPLIT_KEY:
        raise ValueError(f"unknown split {split!r}, expected one of {', '.join(SPLITS)}")
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SPLIT_KEY[split], *key)))


def writer_style(seed: int, split: str, writer: int) -> WriterStyle:
    """The style of writer `writer` of `split`; train and test writers come from separate
    branches of the seed, so no test writer shares a style with a training writer."""
    rng = _rng(seed, split, writer, _STYLE)
    return WriterStyle(
        size=float(rng.uniform(58, 120)),
        aspect=float(np.exp(rng.normal(0, 0.09))),
        slant=float(rng.normal(0.05, 0.12)),
        rotation=float(rng.normal(0, 3.5)),
        rise=float(rng.normal(0.05, 0.05)),
        width=float(rng.uniform(1.5, 4.2)),
        pressure=float(rng.uniform(0.0, 0.5)),
        taper=float(rng.uniform(0.0, 0.7)),
        end_var=float(rng.uniform(1.0, 8.0)),
        hook=float(rng.uniform(0.0, 0.5)),
        cursive=float(rng.uniform(0.0, 0.35)),
        jitter=float(rng.uniform(0.02, 0.07)),
        elastic=float(rng.uniform(2.0, 9.0)),
        warp=tuple(float(x) for x in rng.normal(0, 7.0, 6)),
        ink=float(rng.uniform(0, 110)),
        noise=float(rng.uniform(0, 35)),
    )


def sample_rng(seed: int, split: str, writer: int, cls: int) -> np.random.Generator:
    """The RNG of one sample: writer `writer` of `split` writing class `cls`."""
    return _rng(seed, split, writer, _SAMPLE, cls)


def _unit(v: np.ndarray) -> np.ndarray:
    n = math.hypot(float(v[0]), float(v[1]))
    return v / n if n > 1e-6 else np.array([1.0, 0.0])


def _stroke_path(points: np.ndarray, nxt: np.ndarray | None, style: WriterStyle,
                 rng: np.random.Generator) -> np.ndarray:
    """Vary the ends of one stroke median (shorten, extend, hook toward the next stroke `nxt`)
    and resample it every `STEP` units."""
    p = points.astype(np.float64)
    if len(p) == 1:
        p = np.vstack([p, p + 1.0])
    start_dir = _unit(p[0] - p[min(2, len(p) - 1)])
    end_dir = _unit(p[-1] - p[max(len(p) - 3, 0)])
    length = float(np.hypot(*np.diff(p, axis=0).T).sum())
    d0, d1 = rng.normal(0, style.end_var, 2).clip(-0.3 * length, 3 * style.end_var)
    head = [p[0] + start_dir * d0] if d0 > 0 else []
    tail = [p[-1] + end_dir * d1] if d1 > 0 else []
    p = np.vstack([*head, p, *tail])
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(p, axis=0).T))])
    lo, hi = max(0.0, -d0), arc[-1] - max(0.0, -d1)
    t = np.linspace(lo, hi, max(2, int((hi - lo) / STEP) + 2))
    q = np.stack([np.interp(t, arc, p[:, 0]), np.interp(t, arc, p[:, 1])], axis=1)
    if nxt is not None and rng.random() < style.hook:
        bend = _unit(0.6 * _unit(nxt - q[-1]) + 0.4 * end_dir)
        hook = rng.uniform(5, 14)
        q = np.vstack([q, q[-1] + bend * np.linspace(0, hook, 3)[1:, None]])
    return q


def _jitter(p: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Move, turn and scale one stroke about its centroid; horizontals rise by `style.rise`."""
    centre = p.mean(axis=0)
    d = p[-1] - p[0]
    horizontal = abs(d[0]) / (math.hypot(d[0], d[1]) + 1e-6)
    j = style.jitter
    angle = rng.normal(0, j) + style.rise * horizontal
    sx, sy = np.exp(rng.normal(0, 1.5 * j, 2))
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[c * sx, s * sy], [-s * sx, c * sy]])  # y down: positive angle turns up
    return (p - centre) @ m.T + centre + rng.normal(0, 100 * j, 2)


def _distort(p: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """The writer's fixed smooth warp plus a per-sample elastic field (box units)."""
    u, v = (p[:, 0] - BOX / 2) / (BOX / 2), (p[:, 1] - BOX / 2) / (BOX / 2)
    c = style.warp
    dx = c[0] * u * v + c[1] * (v * v - 0.33) + c[2] * (u * u - 0.33)
    dy = c[3] * u * v + c[4] * (u * u - 0.33) + c[5] * (v * v - 0.33)
    grid = 10
    field = gaussian_filter(rng.normal(size=(2, grid, grid)), sigma=(0, 1.5, 1.5), mode="wrap")
    field *= style.elastic / (field.std() + 1e-9)
    coords = np.clip(p[:, ::-1].T / BOX * (grid - 1), 0, grid - 1)
    ex = map_coordinates(field[0], coords, order=1)
    ey = map_coordinates(field[1], coords, order=1)
    return p + np.stack([dx + ex, dy + ey], axis=1)


def _to_pixels(p: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Global affine of the sample: the writer's slant, rotation, aspect and size, perturbed."""
    scale = style.size / BOX * math.exp(rng.normal(0, 0.07))
    aspect = style.aspect * math.exp(rng.normal(0, 0.05))
    slant = style.slant + rng.normal(0, 0.04)
    angle = math.radians(style.rotation + rng.normal(0, 2.0))
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]])
    shear = np.array([[1.0, -slant], [0.0, 1.0]])
    stretch = np.diag([math.sqrt(aspect), 1 / math.sqrt(aspect)])
    return (p - BOX / 2) @ (scale * rot @ shear @ stretch).T


def _widths(n: int, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Pen width (px) at `n` evenly spaced points of one stroke."""
    t = np.linspace(0, 1, n)
    a, b = rng.uniform(0, 1), rng.normal(0, 0.5)
    w = style.width * math.exp(rng.normal(0, 0.3 * style.pressure))
    w = w * (1 + style.pressure * (a * (0.5 - t) + b * np.sin(np.pi * t)))
    return w * (1 - style.taper * np.clip((t - 0.7) / 0.3, 0, 1) ** 2)


def _draw(paths: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Draw (points px, widths px) polylines; return ink coverage [h, w] float32 in 0..1.

    Runs of segments of equal (integer canvas) width go to PIL in one call; round discs cap
    the ends and fill the joints that turn by more than `SHARP_TURN`.
    """
    pts = np.concatenate([p for p, _ in paths])
    pad = 2 + max(float(w.max()) for _, w in paths) / 2
    origin = pts.min(axis=0) - pad
    size = np.ceil(pts.max(axis=0) + pad - origin).astype(int) + 1
    canvas = Image.new("L", (int(size[0]) * SUPERSAMPLE, int(size[1]) * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(canvas)
    for p, w in paths:
        q = (p - origin) * SUPERSAMPLE
        r = np.maximum(w, 0.6) * (SUPERSAMPLE / 2)
        seg_width = np.maximum(1, np.rint(r[:-1] + r[1:])).astype(int)
        cuts = [0, *(np.flatnonzero(np.diff(seg_width)) + 1).tolist(), len(seg_width)]
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            draw.line(q[a : b + 1].ravel().tolist(), fill=255, width=int(seg_width[a]))
        heading = np.arctan2(*np.diff(q, axis=0).T[::-1])
        turn = np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi)
        discs = [0, len(q) - 1, *(np.flatnonzero(turn > SHARP_TURN) + 1).tolist()]
        for i in discs:
            (x, y), ri = q[i].tolist(), float(r[i])
            if ri > 1:
                draw.ellipse((x - ri, y - ri, x + ri, y + ri), fill=255)
    return np.asarray(canvas.reduce(SUPERSAMPLE), np.float32) / 255


def _finish(cover: np.ndarray, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage → grey uint8 (255 = paper), cropped around the ink with a random margin."""
    ink = style.ink + style.noise * rng.standard_normal(cover.shape, np.float32)
    grey = 255 - cover * (255 - np.clip(ink, 0, 230))
    rows = np.flatnonzero((cover > 0.08).any(axis=1))
    cols = np.flatnonzero((cover > 0.08).any(axis=0))
    if rows.size == 0:
        raise ValueError("rendered an empty image")
    m = rng.integers(0, 4, 4)
    top, bottom = rows[0] - m[0], rows[-1] + 1 + m[1]
    left, right = cols[0] - m[2], cols[-1] + 1 + m[3]
    out = np.full((bottom - top, right - left), 255, np.uint8)
    src = grey[max(top, 0) : bottom, max(left, 0) : right]
    oy, ox = max(top, 0) - top, max(left, 0) - left
    out[oy : oy + src.shape[0], ox : ox + src.shape[1]] = np.rint(src).astype(np.uint8)
    return out


def _link(a: np.ndarray, b: np.ndarray, style: WriterStyle, rng: np.random.Generator
          ) -> np.ndarray | None:
    """Maybe a cursive link from stroke `a` to stroke `b`: the pen carries on in its direction
    and curves to the next start. Near strokes are linked more often than far ones."""
    gap = math.hypot(*(b[0] - a[-1]))
    if gap >= LINK_MAX or rng.random() >= style.cursive * (1 - gap / LINK_MAX):
        return None
    ctrl = a[-1] + _unit(a[-1] - a[-2]) * 0.4 * gap
    t = np.linspace(0, 1, max(3, int(gap / STEP) + 2))[:, None]
    return (1 - t) ** 2 * a[-1] + 2 * (1 - t) * t * ctrl + t**2 * b[0]


def render(cls: int, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Draw class `cls` as `style` writes it.

    Args:
        cls: class index (position in `LEVEL1`).
        style: the writer.
        rng: the sample's RNG (see `sample_rng`).

    Returns:
        Grey image [h, w] uint8, 255 = background, cropped around the ink.
    """
    strokes = class_strokes(cls)
    paths = []
    for i, s in enumerate(strokes):
        nxt = strokes[i + 1][0] if i + 1 < len(strokes) else None
        paths.append(_jitter(_stroke_path(s, nxt, style, rng), style, rng))
    links = [link for a, b in zip(paths[:-1], paths[1:], strict=False)
             if (link := _link(a, b, style, rng)) is not None]
    sizes = [len(p) for p in paths + links]
    pts = _to_pixels(_distort(np.concatenate(paths + links), style, rng), style, rng)
    parts = np.split(pts, np.cumsum(sizes)[:-1])
    drawn = [(p, _widths(len(p), style, rng)) for p in parts[: len(paths)]]
    drawn += [(p, np.full(len(p), 0.4 * style.width)) for p in parts[len(paths) :]]
    return _finish(_draw(drawn), style, rng)


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def find_cjk_fonts() -> list[str]:
    """Font files that cover Chinese, as listed by `fc-list :lang=zh file` (empty if none)."""
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                                check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.strip().rstrip(":") for line in listed.splitlines() if line.strip()})


def render_font(cls: int, font: str, style: WriterStyle, rng: np.random.Generator) -> np.ndarray:
    """Draw class `cls` with a font file, distorted like `style`'s handwriting.

    The glyph gets the writer's affine (with per-sample jitter) and an elastic field, applied
    to the image since a font has no strokes to move.
    """
    size = max(8, round(style.size * 0.8))
    pad = size // 2
    canvas = Image.new("L", (size + 2 * pad, size + 2 * pad), 0)
    ImageDraw.Draw(canvas).text((pad, pad), LEVEL1[cls], font=_font(font, size), fill=255)
    cover = np.asarray(canvas, np.float32) / 255
    h, w = cover.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    centre = np.array([w / 2, h / 2])
    dst = np.stack([xx.ravel(), yy.ravel()], axis=1)
    # The inverse of the sample's affine and distortion, in box units around the centre.
    m = _to_pixels(np.array([[BOX / 2 + 1, BOX / 2], [BOX / 2, BOX / 2 + 1]]), style, rng)
    src = (dst - centre) @ np.linalg.inv(m) + BOX / 2
    src = _distort(src, style, rng)
    src = (src - BOX / 2) * (style.size / BOX) + centre
    cover = map_coordinates(cover, [src[:, 1], src[:, 0]], order=1, cval=0.0).reshape(h, w)
    return _finish(cover.astype(np.float32), style, rng)


class SynthError(ValueError):
    """A synthesis request that cannot be carried out (bad parameters, occupied folder)."""


@dataclass(frozen=True)
class SynthPlan:
    """What to synthesize: classes 0..classes-1 of LEVEL1, once per writer of each split.

    Attributes:
        classes: number of classes (the first N of LEVEL1).
        writers: writers per split, e.g. {"train": 20, "test": 5}; each writes every class.
        seed: master seed; with the plan it fixes every output byte.
        fonts: font files rendered as extra training writers (never in the test split, whose
            writers must be unseen).
    """

    classes: int
    writers: dict[str, int]
    seed: int = 0
    fonts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.classes <= len(LEVEL1):
            raise SynthError(f"classes must be in 1..{len(LEVEL1)}, got {self.classes}")
        if not self.writers or any(s not in SPLITS for s in self.writers):
            raise SynthError(f"splits must be among {', '.join(SPLITS)}, got {list(self.writers)}")
        if any(k < 1 for k in self.writers.values()):
            raise SynthError(f"every split needs at least one writer, got {self.writers}")
        if self.seed < 0:
            raise SynthError(f"seed must be >= 0, got {self.seed}")
        if self.fonts and "train" not in self.writers:
            raise SynthError("font writers go into the train split, which is not requested")

    def writer_list(self) -> list[tuple[str, int, str | None]]:
        """(split, writer id, font file or None) of every writer, in output order."""
        out = [(split, w, None) for split, k in self.writers.items() for w in range(k)]
        k = self.writers.get("train", 0)
        return out + [("train", k + i, font) for i, font in enumerate(self.fonts)]

    @property
    def images(self) -> int:
        """Total number of images."""
        return self.classes * len(self.writer_list())


def gnt_name(split: str, writer: int) -> str:
    """Path of a writer's file relative to the output folder."""
    return f"{split}/w{writer:04d}.gnt"


def render_chunk(seed: int, split: str, writer: int, font: str | None, start: int, stop: int
                 ) -> list[tuple[bytes, np.ndarray]]:
    """The (tag, image) records of one writer for classes start..stop-1."""
    style = writer_style(seed, split, writer)
    records = []
    for cls in range(start, stop):
        rng = sample_rng(seed, split, writer, cls)
        image = render(cls, style, rng) if font is None else render_font(cls, font, style, rng)
        records.append((tag_of_class(cls), image))
    return records


def _default_signals() -> None:
    """A pool worker dies on SIGTERM and SIGINT: a forked worker inherits the CLI's handlers
    (SIGTERM raises SystemExit, for the parent's cleanup), and with them `Pool.terminate`
    could leave it blocked on the task queue forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _render_task(task: tuple) -> tuple[str, int, int, list[tuple[bytes, np.ndarray]]]:
    seed, split, writer, font, start, stop = task
    return split, writer, start, render_chunk(seed, split, writer, font, start, stop)


def _prepare(out: Path, overwrite: bool) -> None:
    """Make `out` ready: refuse to mix with an earlier dataset unless `overwrite`."""
    if out.exists() and not out.is_dir():
        raise SynthError(f"{out} is a file, not a folder")
    old = [out / m for m in (MANIFEST, SYNTH_STARTED) if (out / m).exists()]
    for split in SPLITS:
        if (out / split).is_dir():
            old += sorted((out / split).glob("*.gnt")) + sorted((out / split).glob("*.partial"))
    if old and not overwrite:
        raise SynthError(f"{out} already holds a dataset ({old[0].name}...); "
                         "choose another folder or overwrite it (--overwrite)")
    for path in old:
        path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / SYNTH_STARTED).write_text("{}\n")  # replaced by the manifest when complete


def synthesize(plan: SynthPlan, out: str | Path, workers: int | None = None,
               overwrite: bool = False, advance: Callable[[int], None] | None = None) -> dict:
    """Write one `.gnt` per writer under `out/<split>/` and `out/manifest.json`.

    The manifest is written last, so a folder without it is an interrupted run; each `.gnt`
    is written atomically. Worker processes are forked (no re-import of the caller's modules)
    before `advance` is first called, so a caller may start threads, such as a progress bar's
    refresh, from that first call.

    Args:
        plan: what to draw.
        out: output folder.
        workers: processes (default: all cores); 1 renders in this process.
        overwrite: replace a dataset already in `out`.
        advance: called with the number of images finished, for progress bars.

    Returns:
        The manifest.
    """
    out = Path(out)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise SynthError(f"workers must be >= 1, got {workers}")
    _prepare(out, overwrite)
    writers = plan.writer_list()
    chunk = max(16, min(256, math.ceil(plan.classes * len(writers) / (4 * workers))))
    starts = range(0, plan.classes, chunk)
    tasks = [(plan.seed, split, w, font, a, min(a + chunk, plan.classes))
             for split, w, font in writers for a in starts]
    for split in plan.writers:
        (out / split).mkdir(exist_ok=True)
    pending: dict[tuple[str, int], dict[int, list]] = {}
    files: dict[tuple[str, int], str] = {}
    with contextlib.ExitStack() as stack:
        if workers == 1:
            results = map(_render_task, tasks)
        else:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            pool = stack.enter_context(ctx.Pool(min(workers, len(tasks)), _default_signals))
            results = pool.imap_unordered(_render_task, tasks)
        for split, writer, start, records in results:
            parts = pending.setdefault((split, writer), {})
            parts[start] = records
            if len(parts) == len(starts):
                path = out / gnt_name(split, writer)
                write_gnt(path, (r for a in sorted(parts) for r in parts[a]))
                files[split, writer] = sha256(path)
                del pending[split, writer]
            if advance is not None:
                advance(len(records))
        if workers > 1:  # every result is in: let the workers finish, no signals
            pool.close()
            pool.join()
    manifest = _manifest(plan, files)
    tmp = out / SYNTH_STARTED
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(out / MANIFEST)
    return manifest


def _manifest(plan: SynthPlan, files: dict[tuple[str, int], str]) -> dict:
    splits = {}
    for split, writer, font in plan.writer_list():
        entry = splits.setdefault(split, {"writers": 0, "images": 0, "files": {}})
        entry["writers"] += 1
        entry["images"] += plan.classes
        entry["files"][gnt_name(split, writer).split("/")[1]] = {
            "sha256": files[split, writer],
            "font": font,
            "style": writer_style(plan.seed, split, writer).as_dict(),
        }
    return {
        "generator": "model.data.synth",
        "generator_version": GENERATOR_VERSION,
        "strokes": {"source": STROKE_SOURCE, "sha256": sha256(ASSET)},
        "seed": plan.seed,
        "classes": plan.classes,
        "class_chars": "".join(LEVEL1[: plan.classes]),
        "images": plan.images,
        "splits": splits,
    }
