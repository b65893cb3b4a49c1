"""Demo stage: resources, fit and images/s of the demo network on xc7z020 (the plan the RTL
stage generated and simulated), and its estimated cycles against the Verilator-measured ones."""

from __future__ import annotations

from pathlib import Path

from base.errors import HccrError
from flow.console import console
from flow.stage import Demo, Stage
from flow.stages.hls import hls_dir
from flow.stages.quant import ir_dir
from flow.tables import rich_tables
from hw.devices import device
from hw.estimate import calibration
from hw.estimate.network import NetworkEstimate
from hw.estimate.plan import optimise, planned_folding
from hw.estimate.report import markdown, write_html
from hw.gen.engines import Folding
from hw.hls.report import find_csynth, parse_csynth
from quant import ir

DEVICE = "xc7z020"
CLOCK_MHZ = 200


def report_dir(demo: Demo) -> Path:
    return demo.run_dir / "report"


def demo_plan(model: ir.Model) -> NetworkEstimate:
    """The optimiser's plan for `model` on the demo's device, as `hccr report` makes it; the
    RTL stage generates and simulates its folding."""
    return optimise(model, device(DEVICE), calibration.load(), CLOCK_MHZ)


def _run(demo: Demo) -> dict:
    model = ir.load(ir_dir(demo))
    est = demo_plan(model)
    csynth = find_csynth(hls_dir(demo))
    write_html(est, report_dir(demo), parse_csynth(csynth) if csynth else None)
    for table in rich_tables(est):
        console.print(table)
    rtl = demo.results["rtl"]
    simulated = {k: Folding(pe, simd, pack) for k, (pe, simd, pack) in rtl["folding"].items()}
    if {k: f for k, f in simulated.items() if f != Folding()} != planned_folding(est):
        raise HccrError("the RTL stage simulated a folding other than the report's plan")
    return {"plan": est.as_json(), "markdown": markdown(est),
            "html": str(report_dir(demo) / "report.html"),
            "rtl_estimated_cycles": est.cycles,
            "rtl_measured_cycles": rtl["cycles_per_image"],
            "rtl_cycles_ratio": round(rtl["cycles_per_image"] / est.cycles, 4)}


def _report(demo: Demo) -> str:
    r = demo.results["report"]
    return ("## Resources and speed (`hccr report`)\n\n"
            f"The optimiser's plan for the demo IR on {DEVICE} at {CLOCK_MHZ} MHz "
            f"(`{r['html']}` has the plots):\n\n{r['markdown']}\n"
            f"This plan is the design the RTL stage generated and simulated (`hccr rtl "
            f"--device {DEVICE}`): estimated {r['rtl_estimated_cycles']:,} cycles/image, "
            f"Verilator measured {r['rtl_measured_cycles']:,.0f} (measured / estimated "
            f"{r['rtl_cycles_ratio']:.3f}).\n")


STAGE = Stage("report", _run, _report)
