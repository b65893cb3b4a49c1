"""CASIA-HWDB1.x `.gnt` reader and writer.

A `.gnt` file is a sequence of records with no file header:
uint32 LE total size (= 10 + w*h), 2-byte GB2312 tag (high byte first),
uint16 LE width, uint16 LE height, then w*h uint8 grey values row-major (255 = background).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.data.classes import class_of_tag

HEADER = struct.Struct("<I2sHH")


class GntError(ValueError):
    """A corrupt `.gnt` record; the message names the file and byte offset."""


@dataclass(frozen=True)
class GntSample:
    """One character image: its class index and grey image (uint8, 255 = background)."""

    label: int
    image: np.ndarray


@dataclass
class GntReadResult:
    samples: list[GntSample]
    skipped: int


def _record_problem(data: bytes, offset: int) -> tuple[str | None, int]:
    """Check the record at `offset`; return (problem or None, offset of the next record)."""
    remaining = len(data) - offset
    if remaining < HEADER.size:
        return f"truncated header ({remaining} of {HEADER.size} bytes)", len(data)
    size, tag, width, height = HEADER.unpack_from(data, offset)
    next_offset = offset + size if size >= HEADER.size else len(data)
    if width == 0 or height == 0:
        return f"zero-sized image {width}x{height}", min(next_offset, len(data))
    if size != HEADER.size + width * height:
        return (
            f"size field {size} != 10 + {width}*{height} = {HEADER.size + width * height}",
            min(next_offset, len(data)),
        )
    if remaining < size:
        return f"truncated record ({remaining} of {size} bytes)", len(data)
    if class_of_tag(tag) is None:
        return f"tag {tag.hex()} is not a GB2312 level-1 character", next_offset
    return None, next_offset


def iter_gnt(path: str | Path, skip_bad: bool = False, counter: list[int] | None = None
             ) -> Iterator[GntSample]:
    """Yield the samples of one `.gnt` file.

    Args:
        path: the file.
        skip_bad: skip corrupt records (counted into `counter[0]`) instead of raising.
        counter: one-element list that receives the number of skipped records.

    Raises:
        GntError: on the first corrupt record when `skip_bad` is False.
    """
    path = Path(path)
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        problem, next_offset = _record_problem(data, offset)
        if problem is not None:
            if not skip_bad:
                raise GntError(f"{path}: byte {offset}: {problem}")
            if counter is not None:
                counter[0] += 1
            offset = next_offset
            continue
        _, tag, width, height = HEADER.unpack_from(data, offset)
        start = offset + HEADER.size
        image = np.frombuffer(data, np.uint8, width * height, start).reshape(height, width)
        yield GntSample(class_of_tag(tag), image.copy())
        offset = next_offset


SYNTH_MANIFEST = "manifest.json"  # written last by `hccr data synth`: the dataset is complete
SYNTH_STARTED = SYNTH_MANIFEST + ".partial"  # written first: a dataset is being drawn here
MANIFEST_KEYS = ("generator", "classes", "splits")


def check_dataset(path: Path) -> None:
    """Refuse data inside a synthesized dataset that was interrupted (its folder holds the
    started marker but no manifest) or whose manifest is corrupt; any other folder (CASIA)
    passes."""
    for folder in [p for p in (path, *path.parents[:2]) if p.is_dir()]:
        manifest = folder / SYNTH_MANIFEST
        if manifest.is_file():
            try:
                doc = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise GntError(f"{manifest}: not readable JSON ({exc})") from None
            missing = [k for k in MANIFEST_KEYS if not isinstance(doc, dict) or k not in doc]
            if missing:
                raise GntError(f"{manifest}: missing key '{missing[0]}' (rewrite the dataset: "
                               "hccr data synth --overwrite)")
            return
        if (folder / SYNTH_STARTED).exists():
            raise GntError(f"{folder}: an interrupted `hccr data synth` (no {SYNTH_MANIFEST}); "
                           f"draw it again with `hccr data synth --out {folder} --overwrite`")


def gnt_files(path: str | Path) -> list[Path]:
    """The `.gnt` files at `path` (a file, or a folder searched recursively), sorted; refuses
    an interrupted synthesized dataset (`check_dataset`)."""
    path = Path(path)
    check_dataset(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise GntError(f"{path}: no such file or folder")
    files = sorted(path.rglob("*.gnt"))
    if not files:
        raise GntError(f"{path}: no .gnt files found")
    return files


def read_gnt(path: str | Path, skip_bad: bool = False) -> GntReadResult:
    """Read every sample from a `.gnt` file or a folder of them."""
    counter = [0]
    samples = [s for f in gnt_files(path) for s in iter_gnt(f, skip_bad, counter)]
    return GntReadResult(samples, counter[0])


def encode_record(tag: bytes, image: np.ndarray) -> bytes:
    """One `.gnt` record for a 2-byte tag and a uint8 [h, w] grey image."""
    if image.dtype != np.uint8 or image.ndim != 2 or 0 in image.shape:
        raise ValueError(f"image must be non-empty 2-D uint8, got {image.dtype} {image.shape}")
    if len(tag) != 2:
        raise ValueError(f"tag must be 2 bytes, got {tag!r}")
    height, width = image.shape
    if width > 0xFFFF or height > 0xFFFF:
        raise ValueError(f"image {width}x{height} exceeds the uint16 size fields")
    return HEADER.pack(HEADER.size + width * height, tag, width, height) + image.tobytes()


def write_gnt(path: str | Path, records: Iterable[tuple[bytes, np.ndarray]]) -> int:
    """Write (tag, image) records to `path` atomically; return the number written."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".partial")
    count = 0
    with tmp.open("wb") as f:
        for tag, image in records:
            f.write(encode_record(tag, image))
            count += 1
    tmp.replace(path)
    return count
