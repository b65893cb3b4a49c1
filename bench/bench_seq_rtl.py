"""The layer-sequential engine's RTL on the full-size seed networks (3755 classes, 64×64),
xc7z020's PE 16 × SIMD 16 on PYNQ-Z2's DDR (`board_config`; shift-only when the IR is
power-of-two), at the batch `choose_batch` picks. Feature maps larger than the activation
buffer run in row bands (CNN9's first two convs, SqNxt's first); a network whose weight tiles
do not fit the 64 KiB tile buffer (ECA-ResNet18: 73.9 KB) runs on the same RTL generated with
128 KiB tiles, which leave 224 KiB of xc7z020's block RAM to activations.

- cocotb: `tb_seq_engine` (tests/hw/seq) with cocotbext-axi's `AxiRam` as DDR, random R/AR/W/B
  pauses, `AxiLiteMaster` on the registers; the pruned SqNxt + C-CBAM, `COCOTB_IMAGES` images;
- free-running: `sim.seq_freerun` (SV DDR model with the board's latency and bandwidth, SV
  register sequence, no Python per cycle) on every seed network that compiles.

Per run: images bit-exact against golden (`np.array_equal` on every output), cycles per image
measured against the timing contract (`hw/gen/seq/cycles.py`), wall and CPU time, simulated
cycles per second. Results go to `build/bench/seq_rtl.json` (one entry per mode, network and
shape).

`python -m bench.bench_seq_rtl MODE NET IMAGES [--ir FOLDER] [--pe N --simd N] [--board B]
[--act-bytes N --tile-bytes N]` runs one (MODE cocotb or freerun, NET a key of `NETWORKS`;
`--ir` loads the IR from FOLDER instead of calibrating it; the engine shape, default PE 16 ×
SIMD 16, the board, default PYNQ-Z2, and the buffers, default the board's).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from base.errors import HccrError
from base.paths import ROOT
from bench.bench_hls import calibrated_ir
from hw.boards import BOARDS, board
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.compiler import Program
from hw.gen.seq.config import DEFAULT_ARRAY, TILE_BYTES, board_config, shift_only
from hw.gen.seq.cycles import image_cycles
from hw.gen.seq.records import pack_inputs
from quant import ir
from sim import runner
from sim.seq_freerun import bit_exact_images, contract_cycles, parameters, simulate_seq, sources

PRUNED = Path(__file__).parent / "data" / "sqnxt_ccbam_slim_x8_shapes.json"
TB = ROOT / "tests" / "hw" / "seq"  # tb_seq_engine.py, the cocotb testbench
RESULTS = ROOT / "build" / "bench" / "seq_rtl.json"
BOARD = "pynq-z2"
WIDE = (BOARD, 2 * TILE_BYTES)  # for a network whose weight tiles need more than 64 KiB
NETWORKS = {"pruned": ("sqnxt-ccbam", 64, True), "sqnxt": ("sqnxt-ccbam", 64, False),
            "fire": ("fire-gwap-cascade", 64, False), "eca": ("eca-resnet18", 64, False),
            "cnn9": ("cnn9", 96, False)}
COCOTB_IMAGES = 20
# images and (board, weight-tile bytes) per network in the full sweep
FREERUN = {"pruned": (20, (BOARD, TILE_BYTES)), "sqnxt": (5, (BOARD, TILE_BYTES)),
           "fire": (3, (BOARD, TILE_BYTES)), "eca": (3, WIDE), "cnn9": (3, (BOARD, TILE_BYTES))}


def network(key: str, folder: Path | None = None) -> ir.Model:
    """The seed network `key` (calibrated on random images, or loaded from `folder`)."""
    if folder is not None:
        return ir.load(folder)
    arch, size, pruned = NETWORKS[key]
    shapes = json.loads(PRUNED.read_text()) if pruned else None
    return calibrated_ir(arch, size, 3755, shapes=shapes)


def _images(model: ir.Model, n: int) -> np.ndarray:
    shape = model.tensors[model.inputs[0]].shape
    return np.random.default_rng(0).integers(0, 256, (n, *shape)).astype(np.uint8)


def run_cocotb(program: Program, inputs: bytes, images: int, folder: Path, seed: int = 1
               ) -> tuple[bytes, dict]:
    """The program through `tb_seq_engine` with random pauses; (output records, result)."""
    built = runner.build("seq_engine", sources(folder / "regs"), parameters(program.config))
    run = folder / "run"
    run.mkdir(parents=True, exist_ok=True)
    (run / "program.bin").write_bytes(program.encode())
    (run / "data.bin").write_bytes(program.data)
    (run / "inputs.bin").write_bytes(inputs)
    contract = contract_cycles(program, images)
    (run / "run.json").write_text(json.dumps({
        "images": images, "output_bytes": program.header.output_bytes, "pause": "random",
        "seed": seed, "max_cycles": int(10 * contract) + 100_000}))
    if str(TB) not in sys.path:  # cocotb's runner passes sys.path on as PYTHONPATH
        sys.path.insert(0, str(TB))
    res = runner.run(built, "tb_seq_engine", run)
    if not res.passed:
        raise HccrError(f"cocotb run failed: {res.message}")
    return (run / "outputs.bin").read_bytes(), json.loads((run / "result.json").read_text())


def measure(mode: str, key: str, images: int, ir_folder: Path | None = None,
            shape: tuple[int, int] = DEFAULT_ARRAY, board_name: str = BOARD,
            act_bytes: int | None = None, tile_bytes: int = TILE_BYTES) -> dict:
    """One run (module doc) on a PE × SIMD `shape` for `board_name` (`act_bytes`: the
    activation buffer, default `board_config`'s); prints a line and returns its record."""
    model = network(key, ir_folder)
    cfg = board_config(board(board_name), *shape, act_bytes=act_bytes, tile_bytes=tile_bytes,
                       unit_m=shift_only(model))
    try:
        program = choose_batch(model, cfg).program
    except HccrError as exc:
        print(f"seq rtl {mode} {key} ({board_name} buffers): does not compile: {exc}")
        return {"mode": mode, "net": key, "board": board_name, "error": str(exc)}
    images = max(images, program.header.batch)  # at least one whole batch
    x = _images(model, images)
    folder = runner.build_root() / f"bench_seq_{mode}_{key}"
    start = time.perf_counter()
    if mode == "cocotb":
        raw, result = run_cocotb(program, pack_inputs(program, x), images, folder)
        sim_wall, cpu_s = time.perf_counter() - start, None  # build included; no CPU time
    else:
        free = simulate_seq(program, pack_inputs(program, x), images, folder)
        raw, result, sim_wall, cpu_s = free.outputs, free.result, free.wall_s, free.cpu_s
    total = time.perf_counter() - start
    exact = bit_exact_images(model, program, x, raw)
    contract = contract_cycles(program, images) / images
    per_image = result["cycles"] / images
    record = {"mode": mode, "net": key, "board": board_name, "pe": cfg.pe, "simd": cfg.simd,
              "unit_m": cfg.unit_m, "act_bytes": cfg.act_bytes, "tile_bytes": cfg.tile_bytes,
              "batch": program.header.batch, "images": images, "bit_exact": int(exact),
              "error_code": result["error_code"], "cycles": result["cycles"],
              "stall": result["stall"], "cycles_per_image": per_image,
              "contract_cycles_per_image": contract, "ratio": per_image / contract,
              "steady_contract_cycles_per_image": image_cycles(program),
              "images_per_s_200mhz": 200e6 / per_image, "total_s": round(total, 1),
              "sim_wall_s": round(sim_wall, 1), "sim_cpu_s": cpu_s and round(cpu_s, 1),
              "cycles_per_s": round(result["cycles"] / sim_wall),
              "cycles_per_cpu_s": round(result["cycles"] / cpu_s) if cpu_s else None}
    print(f"seq rtl {mode} {key} ({board_name} buffers, batch {record['batch']}): "
          f"{exact}/{images} images bit-exact, "
          f"error code {result['error_code']}; {per_image:,.0f} cycles/image vs contract "
          f"{contract:,.0f} ({record['ratio']:.3f}), stall {result['stall'] / images:,.0f}"
          f"/image, {record['images_per_s_200mhz']:,.0f} images/s at 200 MHz; simulation "
          f"{sim_wall:,.0f} s wall, {record['cycles_per_s']:,} cycles/s"
          + (f", {record['cycles_per_cpu_s']:,} cycles/CPU s" if cpu_s else "")
          + f" ({total:,.0f} s with build)", flush=True)
    _save(record)
    return record


def _save(record: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    key = ("mode", "net", "board", "pe", "simd")
    old = [r for r in old if [r.get(k) for k in key] != [record[k] for k in key]]
    RESULTS.write_text(json.dumps([*old, record], indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    if argv:
        p = argparse.ArgumentParser(prog="bench.bench_seq_rtl")
        p.add_argument("mode", choices=("cocotb", "freerun"))
        p.add_argument("net", choices=sorted(NETWORKS))
        p.add_argument("images", type=int)
        p.add_argument("--ir", type=Path)
        p.add_argument("--pe", type=int, default=DEFAULT_ARRAY[0])
        p.add_argument("--simd", type=int, default=DEFAULT_ARRAY[1])
        p.add_argument("--board", default=BOARD, choices=sorted(BOARDS))
        p.add_argument("--act-bytes", type=int)
        p.add_argument("--tile-bytes", type=int, default=TILE_BYTES)
        a = p.parse_args(argv)
        measure(a.mode, a.net, a.images, a.ir, (a.pe, a.simd), a.board, a.act_bytes,
                a.tile_bytes)
        return
    for key, (n, (board_name, tile_bytes)) in FREERUN.items():
        measure("freerun", key, n, board_name=board_name, tile_bytes=tile_bytes)
    measure("cocotb", "pruned", COCOTB_IMAGES)


if __name__ == "__main__":
    main(sys.argv[1:])
