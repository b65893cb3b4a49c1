"""Demo stage: resources, fit and images/s of the demo network on xc7z020, and the estimate
of the simulated RTL's folding against its Verilator-measured cycles."""

from __future__ import annotations

from pathlib import Path

from flow.console import console
from flow.stage import Demo, Stage
from flow.stages.hls import hls_dir
from flow.stages.quant import ir_dir
from flow.tables import rich_tables
from hw.devices import device
from hw.estimate import calibration
from hw.estimate.network import estimate
from hw.estimate.plan import optimise
from hw.estimate.report import markdown, write_html
from hw.gen.engines import Folding
from hw.hls.report import find_csynth, parse_csynth
from quant import ir

DEVICE = "xc7z020"
CLOCK_MHZ = 200


def report_dir(demo: Demo) -> Path:
    return demo.run_dir / "report"


def _run(demo: Demo) -> dict:
    model = ir.load(ir_dir(demo))
    calib = calibration.load()
    est = optimise(model, device(DEVICE), calib, CLOCK_MHZ)
    csynth = find_csynth(hls_dir(demo))
    write_html(est, report_dir(demo), parse_csynth(csynth) if csynth else None)
    for table in rich_tables(est):
        console.print(table)
    rtl = demo.results["rtl"]
    simulated = estimate(model, device(DEVICE), {k: Folding(pe, simd) for k, (pe, simd)
                                                 in rtl["folding"].items()}, calib, CLOCK_MHZ)
    return {"plan": est.as_json(), "markdown": markdown(est),
            "html": str(report_dir(demo) / "report.html"),
            "rtl_estimated_cycles": simulated.cycles,
            "rtl_measured_cycles": rtl["cycles_per_image"],
            "rtl_cycles_ratio": round(rtl["cycles_per_image"] / simulated.cycles, 4)}


def _report(demo: Demo) -> str:
    r = demo.results["report"]
    return ("## Resources and speed (`hccr report`)\n\n"
            f"The optimiser's plan for the demo IR on {DEVICE} at {CLOCK_MHZ} MHz "
            f"(`{r['html']}` has the plots):\n\n{r['markdown']}\n"
            f"The folding the RTL stage simulated is estimated at "
            f"{r['rtl_estimated_cycles']:,} cycles/image; Verilator measured "
            f"{r['rtl_measured_cycles']:,.0f} (measured / estimated "
            f"{r['rtl_cycles_ratio']:.3f}).\n")


STAGE = Stage("report", _run, _report)
