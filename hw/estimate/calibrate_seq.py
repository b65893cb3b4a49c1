"""Yosys `synth_xilinx -family xc7` of the whole layer-sequential engine at a few
configurations (`calibration_seq.json`), for the estimator's LUT/FF fit and its checks.

Each point is `seq_engine` with the generated register block, configured as `board_config`
builds it for `BOARD` (buffers from the device's block RAM), synthesised alone; the counts are
`calibrate.measured`'s, plus the longest register-to-register path in cells (`ltp`). LUT and
FF are fitted by least squares over `sequential.FEATURES` on the points not held out. The
fitted points have requantisers with multipliers; what a shift-only lane saves
(`unit_lanes`) is measured on `requantiser.sv` alone, `RQ_LANES` lanes built both ways as the
engine instantiates it. A few dataflow engines of `calibrate.GRID` get their `ltp` measured
too, for comparison.

    python -m hw.estimate.calibrate_seq [--out hw/estimate/calibration_seq.json]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from base.progress import Progress, silent
from hw.boards import board
from hw.estimate.calibrate import GRID, _lstsq, _yosys_version, cli, engine_point, measured
from hw.estimate.sequential import FEATURES, SEQ_CALIBRATION, features
from hw.gen.seq.config import EngineConfig, board_config
from hw.gen.seq.outdir import TOP, engine_generics, engine_sources
from hw.gen.seq_regs import RDL, generate
from hw.synth import RTL_DIR, synth_xilinx

BOARD = "pynq-z2"
# (PE, SIMD, held out, shift-only): LUT and FF are fitted to the four engines with
# multipliers and checked on xc7z020's (PE 16 × SIMD 16 shift-only), held out
CONFIGS: list[tuple[int, int, bool, bool]] = [(4, 8, False, False), (8, 16, False, False),
                                              (8, 8, False, False), (4, 16, False, False),
                                              (16, 16, True, True)]
LTP_LANES = 256  # no `ltp` from this many MAC lanes on (hours on a shared machine)
LTP_ENGINES = (0, 3, 11)  # GRID rows: conv2d PE 2 SIMD 2, conv2d PE 4 SIMD 4 packed, dense
RQ_LANES = 16
RQ_PARAMS = {"LANES": RQ_LANES, "ACC_W": 32, "OUT_W": 32, "OUT_SIGNED": 1, "OUT_ZP": 0}


def synth_engine(cfg: EngineConfig, directory: Path, ltp: bool = True) -> dict[str, int]:
    """Synthesise the whole engine at `cfg` in `directory` (`ltp`: measure its logic depth
    too, slow on the larger arrays)."""
    regs = generate(directory / "regs")
    own = engine_sources()
    packages = [p for p in own if p.stem.endswith("_pkg")]
    sources = [*packages, regs.package, *(p for p in own if p not in packages), regs.module]
    result = synth_xilinx(TOP, sources, engine_generics(cfg), directory / "synth", ltp=ltp)
    return {**measured(result), "ltp": result.ltp}


def rtl_digest(sources: list[Path]) -> str:
    """A digest of the engine's sources (and its register description) as synthesised."""
    h = hashlib.sha256()
    for path in [*sources, RDL]:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def _cached(directory: Path, sources: list[Path], synth: Callable[[Path], dict]) -> dict:
    """`synth(directory)`, or the result an earlier run stored there from the same sources."""
    digest = rtl_digest(sources)
    done = directory / "result.json"
    if done.is_file() and json.loads(done.read_text()).get("rtl") == digest:
        return json.loads(done.read_text())
    result = {**synth(directory), "rtl": digest}
    done.write_text(json.dumps(result))
    return result


def run(work: Path, progress: Progress = silent) -> dict:
    """Synthesise every configuration and the `LTP_ENGINES`; fit; the calibration document."""
    points, dataflow = [], []
    with progress("yosys synth_xilinx (seq_engine)", len(CONFIGS) + len(LTP_ENGINES)
                  ) as advance:
        for pe, simd, held, unit_m in CONFIGS:
            cfg = board_config(board(BOARD), pe, simd, unit_m=unit_m)
            name = (f"seq-pe{cfg.pe}-simd{cfg.simd}-act{cfg.act_bytes}-tile{cfg.tile_bytes}"
                    f"-c{cfg.max_c}" + ("-unitm" if unit_m else ""))
            synth = _cached(work / name, engine_sources(), lambda d, c=cfg: synth_engine(
                c, d, ltp=c.pe * c.simd < LTP_LANES))
            points.append({"config": asdict(cfg), "heldout": held, "features": features(cfg),
                           "synth": synth})
            advance()
        for row in LTP_ENGINES:
            kind, params, fold, _ = GRID[row]
            eng = engine_point(kind, params, fold)

            def one(d: Path, e=eng) -> dict[str, int]:
                e.write_mems(d)
                result = synth_xilinx(e.module, e.sources, e.params, d, ltp=True)
                return {**measured(result), "ltp": result.ltp}
            srcs = [Path(n) if Path(n).suffix else RTL_DIR / f"{n}.sv" for n in eng.sources]
            synth = _cached(work / f"{kind}-{fold[0]}x{fold[1]}-{fold[2]:d}", srcs, one)
            dataflow.append({"engine": eng.module, "kind": kind, "pe": fold[0],
                             "simd": fold[1], "pack": fold[2], "synth": synth})
            advance()
    requantiser = {"lanes": RQ_LANES, **{
        name: _cached(work / f"requantiser-{name}", [RTL_DIR / "hccr_pkg.sv",
                                                     RTL_DIR / "requantiser.sv"],
                      lambda d, u=unit: measured(synth_xilinx(
                          "requantiser", ["hccr_pkg", "requantiser"],
                          {**RQ_PARAMS, "UNIT_M": u}, d, ltp=False)))
        for name, unit in (("general", False), ("unit", True))}}
    return {"yosys": _yosys_version(), "board": BOARD, "fit": fit(points, requantiser),
            "points": points, "requantiser": requantiser, "dataflow_ltp": dataflow}


def fit(points: list[dict], requantiser: dict) -> dict[str, dict[str, float]]:
    """LUT and FF least squares over `FEATURES` on the points not held out, less what their
    shift-only requantiser lanes save (per lane: `requantiser`'s unit − general)."""
    fitted = [p for p in points if not p["heldout"]]
    fits = {}
    for q in ("lut", "ff"):
        lane = (requantiser["unit"][q] - requantiser["general"][q]) / requantiser["lanes"]
        y = [p["synth"][q] - lane * p["features"]["unit_lanes"] for p in fitted]
        fits[q] = {**_lstsq([p["features"] for p in fitted], y, FEATURES),
                   "unit_lanes": round(lane, 4)}
    return fits


def main(argv: list[str] | None = None) -> None:
    cli(argv, __doc__, SEQ_CALIBRATION, "calibrate_seq", run,
        lambda doc: f"{len(doc['points'])} engine points")


if __name__ == "__main__":
    main()
