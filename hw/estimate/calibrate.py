"""`make calibrate`: synthesise a grid of engine configurations with Yosys and fit LUT/FF/DSP.

Each point is one engine (or block) synthesised alone with `synth_xilinx -family xc7`
(`hw.synth`); LUTs count LUT1–6 plus four per distributed RAM (RAM32M/RAM64M) and one per
shift register, FFs count FDRE/FDSE/FDCE/FDPE, block RAMs RAMB18E1/RAMB36E1. Per module, the
non-held-out points fit LUT and FF by least squares over `hw.estimate.cost.features` and DSPs
likewise, rounded to integers; held-out points are only compared. Random IR ops come from
`tests/ir_factory.py` (seeded), the same generator the engine tests use.

    python -m hw.estimate.calibrate [--out hw/estimate/calibration.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from base.paths import ROOT
from base.progress import Progress, lines, silent
from hw.estimate.calibration import DEFAULT, Calibration
from hw.estimate.cost import features
from hw.estimate.memory import LUTS_PER_LUTRAM
from hw.gen.engines import EngineSpec, Folding, engine_for
from hw.synth import CACHE, SynthResult, synth_xilinx, yosys

sys.path.insert(0, str(ROOT / "tests"))
from ir_factory import single_op  # noqa: E402

DSP_FEATURES = {"conv2d": ("mults", "rq"), "dense": ("mults", "rq"), "avgpool": ("simd",)}
JOINT = {"dense": "conv2d"}  # dense.sv wraps conv2d.sv: one fit for both
# Coefficients known, not fitted: a network FIFO's distributed RAM is 4 LUTs per RAM32M/RAM64M.
FIXED = {"fifo": {"lut": {"lutram": float(LUTS_PER_LUTRAM)}}}
C3 = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "out_dtype": "int8"}
P2 = {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0, 0, 0)}
A2 = {"kernel": (2, 2), "stride": (2, 2), "out_dtype": "int8"}
S = {"out_dtype": "int8"}

# (op kind, single_op parameters, (PE, SIMD, PACK), held out)
GRID: list[tuple[str, dict, tuple[int, int, bool], bool]] = [
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3}, (2, 2, False), False),
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3}, (4, 4, False), False),
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3}, (8, 4, False), False),
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3}, (4, 4, True), False),
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3}, (8, 2, True), False),
    ("conv2d", {"shape": (16, 16, 4), "cout": 8, **C3}, (1, 1, False), False),
    ("conv2d", {"shape": (16, 16, 16), "cout": 32, **C3, "kernel": (1, 1),
                "padding": (0, 0, 0, 0)}, (8, 4, False), False),
    ("conv2d", {"shape": (32, 32, 1), "cout": 16, **C3}, (16, 1, True), False),
    ("conv2d", {"shape": (8, 8, 32), "cout": 32, **C3}, (8, 4, True), False),
    ("conv2d", {"shape": (8, 8, 8), "cout": 16, **C3, "unit_m": True}, (4, 4, True), False),
    ("conv2d", {"shape": (8, 8, 16), "cout": 32, **C3, "unit_m": True}, (8, 2, False), False),
    ("dense", {"shape": (1, 1, 64), "cout": 32, **S}, (4, 8, False), False),
    ("dense", {"shape": (1, 1, 128), "cout": 16, **S}, (2, 16, True), False),
    ("dense", {"shape": (1, 1, 32), "cout": 10, **S}, (1, 1, False), False),
    ("dense", {"shape": (1, 1, 64), "cout": 32, **S, "unit_m": True}, (4, 8, False), False),
    ("maxpool", {"shape": (16, 16, 8), **P2}, (1, 1, False), False),
    ("maxpool", {"shape": (16, 16, 8), **P2}, (1, 8, False), False),
    ("maxpool", {"shape": (32, 32, 16), **P2}, (1, 4, False), False),
    ("avgpool", {"shape": (16, 16, 8), **A2}, (1, 1, False), False),
    ("avgpool", {"shape": (16, 16, 8), **A2}, (1, 8, False), False),
    ("avgpool", {"shape": (32, 32, 16), **A2}, (1, 4, False), False),
    ("avgpool", {"shape": (12, 12, 8), **A2, "kernel": (3, 3), "stride": (1, 1)}, (1, 2, False),
     False),
    *[(k, {"shape": s, **extra}, (1, 1, False), False)
      for k, extra in [("global_avgpool", S), ("add", S), ("mul", {**S, "shape2": None}),
                       ("sigmoid", {"out_dtype": "uint8"}), ("reduce_channels",
                                                             {**S, "mode": "mean"}),
                       ("gwap", S), ("prelu", S), ("requant", S),
                       ("concat", {"channels": None})]
      for s in [(4, 4, 8), (16, 16, 32)]],
    # held out: never fitted
    ("conv2d", {"shape": (12, 12, 8), "cout": 24, **C3}, (6, 4, False), True),
    ("conv2d", {"shape": (16, 16, 16), "cout": 16, **C3, "stride": (2, 2)}, (4, 8, True), True),
    ("dense", {"shape": (1, 1, 96), "cout": 24, **S}, (8, 4, False), True),
    ("conv2d", {"shape": (12, 12, 8), "cout": 24, **C3, "unit_m": True}, (6, 4, True), True),
    ("maxpool", {"shape": (8, 8, 32), **P2}, (1, 16, False), True),
    ("avgpool", {"shape": (8, 8, 32), **A2}, (1, 16, False), True),
    ("add", {"shape": (8, 8, 16), **S}, (1, 1, False), True),
    ("gwap", {"shape": (8, 8, 16), **S}, (1, 1, False), True),
]
# (block, parameters, held out): the network's own FIFOs and forks
BLOCKS: list[tuple[str, dict, bool]] = [
    ("fifo", {"DATA_W": 8, "DEPTH": 16}, False), ("fifo", {"DATA_W": 8, "DEPTH": 64}, False),
    ("fifo", {"DATA_W": 32, "DEPTH": 16}, False), ("fifo", {"DATA_W": 8, "DEPTH": 1024}, False),
    ("fifo", {"DATA_W": 64, "DEPTH": 32}, False), ("fifo", {"DATA_W": 16, "DEPTH": 128}, True),
    ("broadcast", {"DATA_W": 8, "N": 2}, False), ("broadcast", {"DATA_W": 8, "N": 3}, False),
    ("broadcast", {"DATA_W": 16, "N": 2}, False), ("broadcast", {"DATA_W": 8, "N": 4}, False),
]
FIFO_FEATURES = ("one", "width", "addr", "lutram")
FORK_FEATURES = ("one", "outs", "width")


def _concrete(kind: str, params: dict) -> dict:
    """Fill the grid's shape-derived parameters (mul's [1,1,C] gate, concat's split)."""
    p = dict(params)
    if p.get("shape2", 0) is None:
        p["shape2"] = (1, 1, p["shape"][2])
    if p.get("channels", 0) is None:
        c = p["shape"][2]
        p["channels"] = (c // 2, c - c // 2)
        p["shape"] = (*p["shape"][:2], c // 2)
    return p


def engine_point(kind: str, params: dict, fold: tuple[int, int, bool]) -> EngineSpec:
    """The engine of one grid point (seeded random weights; `unit_m`: every M set to 1, the
    power-of-two scheme's requantiser without multiplier)."""
    params = _concrete(kind, params)
    unit = params.pop("unit_m", False)
    model = single_op(kind, np.random.default_rng(0), **params)
    op = model.ops[0]
    if unit:
        op = dataclasses.replace(op, multiplier=np.ones_like(op.multiplier))
        model = dataclasses.replace(model, ops=(op,))
    return engine_for(op, model, Folding(*fold))


def measured(result: SynthResult) -> dict[str, int]:
    """The counts the model predicts, from a synthesis result (see the module doc)."""
    c = result.cells
    lutram = c.get("RAM32M", 0) + c.get("RAM64M", 0)
    return {"lut": result.luts + 4 * lutram + c.get("SRL16E", 0) + c.get("SRLC32E", 0),
            "ff": sum(c.get(k, 0) for k in ("FDRE", "FDSE", "FDCE", "FDPE")),
            "dsp": result.dsps, "ramb18": c.get("RAMB18E1", 0), "ramb36": c.get("RAMB36E1", 0)}


def synth_engine(eng: EngineSpec, directory: Path) -> dict[str, int]:
    """Synthesise one engine in `directory` (ROM images written there)."""
    eng.write_mems(directory)
    return measured(synth_xilinx(eng.module, eng.sources, eng.params, directory))


def cached(work: Path, key: object, synth: Callable[[Path], dict[str, int]]
           ) -> dict[str, int]:
    """`synth(directory)`, or its result from an earlier run under `work` with the same key
    and the same hw/rtl sources."""
    rtl = "".join(p.read_text() for p in sorted((ROOT / "hw" / "rtl").glob("*.sv")))
    directory = work / hashlib.sha256((repr(key) + rtl).encode()).hexdigest()[:12]
    done = directory / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    result = synth(directory)
    done.write_text(json.dumps(result))
    return result


def block_features(module: str, params: dict) -> dict[str, float]:
    """Features of a network FIFO or fork (see `hw.estimate.cost.fifo_cost`/`fork_cost`)."""
    from hw.estimate.cost import _log2
    from hw.estimate.memory import Memory, map_memory
    if module == "fifo":
        w, d = params["DATA_W"], params["DEPTH"]
        return {"one": 1.0, "width": float(w), "addr": _log2(d),
                "lutram": float(map_memory(Memory("fifo", d, w + 1)).lutram)}
    return {"one": 1.0, "outs": float(params["N"]), "width": float(params["DATA_W"])}


def _lstsq(rows: list[dict[str, float]], y: list[float], names: tuple[str, ...]
           ) -> dict[str, float]:
    a = np.array([[r[n] for n in names] for r in rows], dtype=float)
    coef = np.linalg.lstsq(a, np.array(y, dtype=float), rcond=None)[0]
    return {n: round(float(c), 4) for n, c in zip(names, coef, strict=True)}


def fit(points: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Per-module LUT/FF/DSP fits over the points not held out."""
    groups: dict[str, list[dict]] = {}
    for p in points:
        if not p["heldout"]:
            groups.setdefault(JOINT.get(p["module"], p["module"]), []).append(p)
    modules = {}
    for module, pts in groups.items():
        rows = [p["features"] for p in pts]
        names = tuple(rows[0])
        dsp_names = DSP_FEATURES.get(module, ("one",))
        dsp = {k: float(round(v)) for k, v in _lstsq(rows, [p["synth"]["dsp"] for p in pts],
                                                      dsp_names).items()}
        fits = {"dsp": dsp}
        for q in ("lut", "ff"):
            fixed = FIXED.get(module, {}).get(q, {})
            free = tuple(n for n in names if n not in fixed)
            y = [p["synth"][q] - sum(c * p["features"][n] for n, c in fixed.items())
                 for p in pts]
            fits[q] = {**_lstsq(rows, y, free), **fixed}
        modules[module] = {q: fits[q] for q in ("lut", "ff", "dsp")}
    for alias, module in JOINT.items():
        modules[alias] = modules[module]
    return modules


def run(work: Path, progress: Progress = silent) -> Calibration:
    """Synthesise every grid point and block under `work`; fit; return the calibration."""
    points = []
    todo = len(GRID) + len(BLOCKS)
    with progress("yosys synth_xilinx", todo) as advance:
        for kind, params, fold, held in GRID:
            eng = engine_point(kind, params, fold)
            points.append({"module": eng.module, "kind": kind, "config": _jsonable(params),
                           "fold": list(fold), "params": _jsonable(eng.params),
                           "heldout": held, "features": features(eng),
                           "synth": cached(work, (eng.module, eng.params, eng.mems),
                                           lambda d, e=eng: synth_engine(e, d))})
            advance()
        for module, params, held in BLOCKS:
            points.append({"module": module, "kind": module, "config": params, "fold": [1, 1,
                                                                                       False],
                           "params": params, "heldout": held,
                           "features": block_features(module, params),
                           "synth": cached(work, (module, params), lambda d, m=module, p=params:
                                           measured(synth_xilinx(m, [m], p, d)))})
            advance()
    return Calibration(fit(points), points, _yosys_version())


def _jsonable(d: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _yosys_version() -> str:
    env = {**os.environ, "YOWASP_CACHE_DIR": os.environ.get("YOWASP_CACHE_DIR", str(CACHE))}
    out = subprocess.run([yosys(), "-V"], capture_output=True, text=True, check=False,
                         env=env).stdout
    found = re.search(r"Yosys \S+", out)
    return found[0] if found else out.strip()


def cli(argv: list[str] | None, doc: str, out: Path, work: str,
        make: Callable[[Path, Progress], dict], summary: Callable[[dict], str]) -> None:
    """A calibration's command line: `--out` (default `out`), `--work` (default
    build/`work`); writes `make(work, progress)` there as JSON and says what it wrote."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", type=Path, default=out)
    ap.add_argument("--work", type=Path, default=ROOT / "build" / work,
                    help="synthesis folders, reused by a later run")
    args = ap.parse_args(argv)
    result = make(args.work, lines)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}: {summary(result)}")


def main(argv: list[str] | None = None) -> None:
    cli(argv, __doc__, DEFAULT, "calibrate", lambda work, p: run(work, p).as_json(),
        lambda doc: f"{len(doc['points'])} points, {len(doc['modules'])} modules")


if __name__ == "__main__":
    main()
