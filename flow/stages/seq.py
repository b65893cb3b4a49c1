"""Demo stage: the int8 IR on the layer-sequential engine (`hccr rtl --mode sequential` for
the board carrying the demo's device), simulated free-running (DDR model with the board's
latency and rate, no Python per cycle) on held-out images against golden, its cycles against
the timing contract the compiler plans with."""

from __future__ import annotations

import time
from pathlib import Path

from flow.console import console
from flow.stage import Demo, Stage
from flow.stages.quant import ir_dir
from flow.stages.report import CLOCK_MHZ, DEVICE
from hw.boards import board_of
from hw.gen.seq.config import DEFAULT_ARRAY, board_config, shift_only
from hw.gen.seq.outdir import write_seq_dir
from model.data.dataset import load_images
from quant import ir
from sim.seq_freerun import run_against_golden

IMAGES = 20
PE, SIMD = DEFAULT_ARRAY  # the array that fits xc7z020


def seq_dir(demo: Demo) -> Path:
    """The demo's layer-sequential design folder."""
    return demo.run_dir / "seq"


def _run(demo: Demo) -> dict:
    model = ir.load(ir_dir(demo))
    size = model.tensors[model.inputs[0]].shape[0]
    x = load_images(Path(demo.results["data"]["test_dir"]), size).images[:IMAGES, ..., None]
    target = board_of(DEVICE)
    config = board_config(target, PE, SIMD, clock_mhz=CLOCK_MHZ, unit_m=shift_only(model))
    t0 = time.perf_counter()
    choice = write_seq_dir(model, seq_dir(demo), config, target)
    gen_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    with console.status(f"Verilator: build the engine and run {len(x)} images"):
        run = run_against_golden(model, choice.program, x, seq_dir(demo) / "sim")
    sim_seconds = time.perf_counter() - t0
    measured = run["cycles_per_image"]
    console.print(f"sequential engine: {run['bit_exact']}/{len(x)} images bit-exact, "
                  f"{measured:,.0f} cycles/image vs {choice.cycles_per_image:,.0f} planned",
                  highlight=False)
    return {"seq": str(seq_dir(demo)), "board": target.name, "pe": PE, "simd": SIMD,
            **{k: run[k] for k in ("batch", "images", "bit_exact", "error_code", "timeout",
                                   "cycles_per_image", "stall", "images_per_s",
                                   "cycles_per_cpu_s")},
            "planned_cycles": choice.cycles_per_image,
            "ratio": measured / choice.cycles_per_image,
            "ddr_bytes_per_image": choice.ddr_bytes_per_image,
            "generate_seconds": round(gen_seconds, 1), "sim_seconds": round(sim_seconds, 1)}


def _report(demo: Demo) -> str:
    r = demo.results["seq"]
    verdict = ("every output of every image matches golden bit for bit"
               if r["bit_exact"] == r["images"] else
               f"error code {r['error_code']}{', cycle limit reached' if r['timeout'] else ''}")
    return (
        "## Layer-sequential engine (SystemVerilog, Verilator)\n\n"
        f"The same IR compiled for the layer-sequential engine on {r['board']} (PE {r['pe']} × "
        f"SIMD {r['simd']}, batch {r['batch']}; design folder `seq/` as `hccr rtl --mode "
        f"sequential` writes it) in {r['generate_seconds']} s, then simulated free-running "
        f"with the board's DDR latency and rate in {r['sim_seconds']} s (Verilator build "
        "included).\n\n"
        f"**Engine vs golden: {r['bit_exact']}/{r['images']} held-out images bit-exact**; "
        f"{verdict}.\n\n"
        "| measure | value |\n|---|---:|\n"
        f"| cycles/image, measured (DDR stalls included) | {r['cycles_per_image']:,.0f} |\n"
        f"| cycles/image, planned (timing contract) | {r['planned_cycles']:,.0f} |\n"
        f"| measured / planned | {r['ratio']:.3f} |\n"
        f"| images/s at {CLOCK_MHZ} MHz, measured | {r['images_per_s']:,.0f} |\n"
        f"| DDR bytes/image | {r['ddr_bytes_per_image']:,.0f} |\n"
        f"| simulation speed | {r['cycles_per_cpu_s'] / 1e3:,.0f} k cycles/CPU s |\n")


STAGE = Stage("seq", _run, _report)
