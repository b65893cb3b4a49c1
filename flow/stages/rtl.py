"""Demo stage: the int8 IR as the SystemVerilog dataflow network the report plans for the demo's
device (`hccr rtl --device`), simulated against golden."""

from __future__ import annotations

import time
from pathlib import Path

from base.errors import HccrError
from flow.console import console
from flow.stage import Demo, Stage
from flow.stages.quant import ir_dir
from flow.stages.report import DEVICE, demo_plan
from hw.estimate.plan import planned_folding
from hw.gen.rtl_dir import write_rtl_dir
from model.data.dataset import load_images
from quant import ir
from sim.check import check_network

IMAGES = 20
BACKPRESSURE = "random"


def rtl_dir(demo: Demo) -> Path:
    """The demo's RTL folder (`hccr rtl` output)."""
    return demo.run_dir / "rtl"


def _run(demo: Demo) -> dict:
    model = ir.load(ir_dir(demo))
    size = model.tensors[model.inputs[0]].shape[0]
    x = load_images(Path(demo.results["data"]["test_dir"]), size).images[:IMAGES, ..., None]
    plan = demo_plan(model)
    if not plan.fits or plan.ddr_layers:
        raise HccrError(f"no dataflow design of the demo IR fits {DEVICE}: "
                        + "; ".join(plan.overflows() or ["weights streamed from DDR"]))
    folding = planned_folding(plan)
    t0 = time.perf_counter()
    net = write_rtl_dir(model, rtl_dir(demo), folding)
    gen_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    with console.status(f"Verilator: build and simulate {len(x)} images"):
        check = check_network(model, net, x, rtl_dir(demo) / "sim", backpressure=BACKPRESSURE)
    sim_seconds = time.perf_counter() - t0
    console.print(check.summary(), highlight=False)
    console.print(check.cycles_line(), highlight=False)
    return {"rtl": str(rtl_dir(demo)), "engines": len(net.engines),
            "folding": {e.name: [int(e.params.get("PE", 1)), int(e.params.get("SIMD", 1)),
                                 bool(e.params.get("PACK", False))] for e in net.engines},
            "dsp": plan.total.dsp, "bram36": plan.total.bram36,
            "layer_cycles": {e.name: e.bound_cycles for e in net.engines},
            "generate_seconds": round(gen_seconds, 1), "sim_seconds": round(sim_seconds, 1),
            "backpressure": BACKPRESSURE, "summary": check.summary(), **check.as_json()}


def _report(demo: Demo) -> str:
    r = demo.results["rtl"]
    fold = ", ".join(f"{k} {pe}×{simd}{' packed' if pack else ''}"
                     for k, (pe, simd, pack) in r["folding"].items())
    verdict = ("every logit of every image matches golden bit for bit" if
               r["bit_exact"] == r["images"] and not r["stream_error"] else r["summary"])
    return (
        "## RTL dataflow engine (SystemVerilog, Verilator)\n\n"
        f"The `int8` IR generated as the dataflow design the report plans for {DEVICE} "
        f"({r['dsp']} DSP, {r['bram36']:g} BRAM36 estimated): {r['engines']} streaming "
        f"engines in `rtl/` (`network.sv`, `.mem` ROMs, `network.json`; PE×SIMD {fold}) in "
        f"{r['generate_seconds']} s, then "
        f"simulated free-running with {r['backpressure']} source idles and sink backpressure "
        f"in {r['sim_seconds']} s (Verilator build included).\n\n"
        f"**RTL vs golden: {r['bit_exact']}/{r['images']} held-out images bit-exact**; "
        f"{verdict}.\n\n"
        "| measure | value |\n|---|---:|\n"
        f"| cycles/image, measured (steady state) | {r['cycles_per_image']:,.0f} |\n"
        f"| cycles/image, analytical (slowest engine) | {r['analytical_cycles']:,} |\n"
        f"| measured / analytical | {r['ratio']:.3f} |\n"
        f"| first image out after (cycles) | {r['end_cycles'][0] if r['end_cycles'] else '–'} |\n"
        f"| simulation speed | {r['cycles_per_s'] / 1e6:.2f} M cycles/s |\n")


STAGE = Stage("rtl", _run, _report)
