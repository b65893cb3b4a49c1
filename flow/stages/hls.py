"""Demo stage: the power-of-two IR as an hls4ml Vivado HLS project, C-simulated against golden."""

from __future__ import annotations

import time
from pathlib import Path

from flow.console import progress
from flow.stage import Demo, Stage
from flow.stages.quant import ir_dir
from hw.hls.compare import csim
from hw.hls.config import HlsConfig
from hw.hls.project import write_project
from model.data.dataset import load_images
from quant import ir

IMAGES = 20
SCHEME = "int8_pot"


def hls_dir(demo: Demo) -> Path:
    """The demo's hls4ml project folder."""
    return demo.run_dir / "hls"


def _run(demo: Demo) -> dict:
    model = ir.load(ir_dir(demo, SCHEME))
    size = model.tensors[model.inputs[0]].shape[0]
    x = load_images(Path(demo.results["data"]["test_dir"]), size).images[:IMAGES, ..., None]
    config = HlsConfig()
    t0 = time.perf_counter()
    project = write_project(model, hls_dir(demo), config, {model.inputs[0]: x})
    write_seconds = time.perf_counter() - t0
    with progress() as bar:
        task = bar.add_task("C-simulation", total=len(x), info="compiling")
        result = csim(project, x, advance=lambda n: bar.update(task, advance=n, info=""))
    return {"project": str(hls_dir(demo)), "part": config.part, "clock_ns": config.clock_ns,
            "layers": len(project.lowered.layers), "write_seconds": round(write_seconds, 1),
            "compile_seconds": round(project.compile_seconds, 1),
            "reuse_factors": {project.lowered.ops[k]: v.reuse_factor
                              for k, v in project.settings.items()},
            **result.as_json(), "tensors": len(result.layers)}


def _report(demo: Demo) -> str:
    r = demo.results["hls"]
    rfs = ", ".join(f"{k} {v}" for k, v in r["reuse_factors"].items())
    verdict = ("every tensor of every image matches golden bit for bit" if
               r["bit_exact"] == r["images"] else f"first mismatch: {r['first_mismatch']}")
    return (
        "## hls4ml back end (Vivado HLS project, C-simulation)\n\n"
        f"The `{SCHEME}` IR lowered to {r['layers']} hls4ml layers (io_stream, Strategy "
        f"Resource, ReuseFactors {rfs}) for {r['part']} at {r['clock_ns']} ns in `hls/` "
        f"(`build_prj.tcl`, firmware, test bench). Project written in {r['write_seconds']} s, "
        f"C-simulation compiled with g++ in {r['compile_seconds']} s.\n\n"
        f"**C-simulation vs golden: {r['bit_exact']}/{r['images']} held-out images bit-exact** "
        f"on all {r['tensors']} tensors; {verdict}.\n")


STAGE = Stage("hls", _run, _report)
