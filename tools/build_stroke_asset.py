"""Build `model/data/assets/hanzi_medians.npz` from an unpacked hanzi-writer-data package.

Not needed at runtime: the asset is shipped in the repository. To rebuild it::

    npm pack hanzi-writer-data@2.0.1 && tar xzf hanzi-writer-data-2.0.1.tgz
    .venv/bin/python tools/build_stroke_asset.py package

Each `<char>.json` holds `medians`: one polyline per stroke, in writing order, as [x, y]
points in a 1024 box with y pointing up (y = 900 is the top). They are stored for the 3755
GB2312 level-1 classes in class order, quantized to uint8 as (x / 4, (900 - y) / 4), so y
points down. Arrays in the `.npz`:

- `points` uint8 [P, 2]: every stroke's points, concatenated.
- `stroke_start` int32 [S + 1]: stroke s is `points[stroke_start[s]:stroke_start[s + 1]]`.
- `class_start` int32 [3756]: class c owns strokes `class_start[c]:class_start[c + 1]`.
- `notice`: the modification notice the Arphic Public License asks for (what changed, when).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.data.classes import LEVEL1  # noqa: E402

ASSETS = Path(__file__).resolve().parents[1] / "model" / "data" / "assets"
NOTICE = (
    "Derived from hanzi-writer-data 2.0.1 (data from the Make Me a Hanzi project, extracted from "
    "Arphic fonts), under the Arphic Public License (ARPHICPL.TXT). Modified on {date} by "
    "tools/build_stroke_asset.py of hccr-fpga: kept only the stroke medians of the 3755 GB2312 "
    "level-1 characters, rescaled to a 256 box with y down and rounded to uint8."
)


def quantize(median: list[list[float]]) -> np.ndarray:
    """One stroke median in hanzi-writer coordinates as uint8 [n, 2] (x, y down)."""
    xy = np.asarray(median, np.float64)
    out = np.stack([xy[:, 0] / 4, (900 - xy[:, 1]) / 4], axis=1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def build(package: Path, out: Path) -> tuple[int, int]:
    """Write the asset from `package`; return (strokes, points)."""
    points, stroke_start, class_start = [], [0], [0]
    for ch in LEVEL1:
        path = package / f"{ch}.json"
        if not path.is_file():
            raise SystemExit(f"{path}: missing (is {package} an unpacked hanzi-writer-data?)")
        medians = json.loads(path.read_text(encoding="utf-8"))["medians"]
        if not medians:
            raise SystemExit(f"{path}: no strokes")
        for median in medians:
            points.append(quantize(median))
            stroke_start.append(stroke_start[-1] + len(median))
        class_start.append(len(stroke_start) - 1)
    np.savez_compressed(
        out,
        points=np.concatenate(points),
        stroke_start=np.asarray(stroke_start, np.int32),
        class_start=np.asarray(class_start, np.int32),
        notice=np.array(NOTICE.format(date=datetime.date.today().isoformat())),
    )
    return len(stroke_start) - 1, stroke_start[-1]


def main() -> None:
    """Parse the command line and build the asset and its licence file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="unpacked hanzi-writer-data package folder")
    parser.add_argument("--out", type=Path, default=ASSETS,
                        help="assets folder (default: %(default)s)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    strokes, points = build(args.package, args.out / "hanzi_medians.npz")
    shutil.copyfile(args.package / "ARPHICPL.TXT", args.out / "ARPHICPL.TXT")
    size = (args.out / "hanzi_medians.npz").stat().st_size
    print(f"{len(LEVEL1)} classes, {strokes} strokes, {points} points, {size} bytes")


if __name__ == "__main__":
    main()
