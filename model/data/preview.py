"""A PNG contact sheet of `.gnt` data: rows are classes, columns are writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from model.data.gnt import GntError, gnt_files, iter_gnt
from model.data.preprocess import preprocess

RAW = 100  # side of the box a raw sample is shown in (larger samples are scaled down)
PRE = 64  # side of the preprocessed sample
PAD = 6  # gap between cells
LABEL = 44  # width of the class-index column
PAPER, GAP_GREY = 255, 200  # a raw cell's background, and the grey around cells


def cell_width(preprocessed: bool) -> int:
    """Width of one writer's cell, padding included."""
    return RAW + (PAD + PRE if preprocessed else 0) + PAD


def grid_size(rows: int, columns: int, preprocessed: bool) -> tuple[int, int]:
    """(width, height) in pixels of a sheet with `rows` classes and `columns` writers."""
    return LABEL + columns * cell_width(preprocessed) + PAD, rows * (RAW + PAD) + PAD


def collect(path: str | Path, chars: int, writers: int) -> dict[int, list[np.ndarray]]:
    """Up to `writers` samples of each of `chars` classes, in file order.

    The classes are spread evenly over those of the first file; with one file per writer,
    column j of every row comes from the j-th file holding that class.
    """
    files = gnt_files(path)
    first = sorted({s.label for s in iter_gnt(files[0])})
    if not first:
        raise GntError(f"{files[0]}: no samples")
    picks = np.unique(np.linspace(0, len(first) - 1, min(chars, len(first))).round().astype(int))
    wanted: dict[int, list[np.ndarray]] = {first[i]: [] for i in picks}
    for f in files:
        seen: set[int] = set()
        for s in iter_gnt(f):
            bucket = wanted.get(s.label)
            if bucket is not None and s.label not in seen and len(bucket) < writers:
                bucket.append(s.image)
                seen.add(s.label)
        if all(len(b) == writers for b in wanted.values()):
            break
    return wanted


def sheet(samples: dict[int, list[np.ndarray]], preprocessed: bool = True) -> Image.Image:
    """Draw the samples: one row per class (labelled by class index), one column per writer.

    Raw samples are shown at their true size when they fit, so writers' sizes can be
    compared; the preprocessed network input (ink bright on black) sits beside them.
    """
    columns = max(len(v) for v in samples.values())
    image = Image.new("L", grid_size(len(samples), columns, preprocessed), GAP_GREY)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    for r, (label, row) in enumerate(sorted(samples.items())):
        y = PAD + r * (RAW + PAD)
        draw.text((4, y + RAW // 2 - 8), str(label), fill=0, font=font)
        for c, grey in enumerate(row):
            x = LABEL + c * cell_width(preprocessed)
            raw = Image.fromarray(grey)
            raw.thumbnail((RAW, RAW))
            image.paste(PAPER, (x, y, x + RAW, y + RAW))
            image.paste(raw, (x + (RAW - raw.width) // 2, y + (RAW - raw.height) // 2))
            if preprocessed:
                pre = Image.fromarray(preprocess(grey, PRE))
                image.paste(pre, (x + RAW + PAD, y + (RAW - PRE) // 2))
    return image


def write_preview(path: str | Path, out: str | Path, chars: int = 10, writers: int = 8,
                  preprocessed: bool = True) -> tuple[int, int]:
    """Write the sheet of `path` (a `.gnt` file or folder) to the PNG `out`.

    Returns:
        (rows, columns) drawn.
    """
    if chars < 1 or writers < 1:
        raise ValueError(f"chars and writers must be >= 1, got {chars} and {writers}")
    samples = collect(path, chars, writers)
    sheet(samples, preprocessed).save(out, format="PNG")
    return len(samples), max(len(v) for v in samples.values())
