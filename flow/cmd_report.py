"""`hccr report`: does the network fit the device, and how fast will it run?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from base.errors import HccrError
from flow.console import console, user_errors
from flow.tables import rich_tables
from flow.validate import checked, existing_dir, finite_above, new_dir, one_of, require, within
from hw.devices import DEVICES, device
from hw.estimate import calibration
from hw.estimate.network import NetworkEstimate
from hw.estimate.plan import optimise
from hw.estimate.report import write_html
from hw.estimate.sequential import SequentialPlan, plan_sequential
from hw.gen.engines import FoldingError
from hw.hls.report import ReportError, find_csynth, parse_csynth
from quant import ir


def dataflow_problems(est: NetworkEstimate) -> list[str]:
    """Why the dataflow design cannot be built for the device: resources over the cap, or
    weights that would have to stream from DDR (the dataflow RTL keeps every weight on chip).
    Empty when it can."""
    streamed = [la.name for la in est.ddr_layers]
    return est.overflows() + ([f"weights of {', '.join(streamed)} would stream from DDR"]
                              if streamed else [])


def plan_report(ir_dir: Path, device_name: str, clock_mhz: float | None = None,
                cap: float = 0.8) -> tuple[NetworkEstimate, SequentialPlan | None]:
    """The optimiser's dataflow plan for the IR in `ir_dir` on `device_name`, and, when it
    cannot be built (`dataflow_problems`), the layer-sequential engine's plan on the device's
    board (None when no board carries the device)."""
    require("--cap", cap, within(0, 1, open_lo=True, closed_hi=True))
    if clock_mhz is not None:
        require("--clock-mhz", clock_mhz, finite_above(0))
    model, dev, calib = ir.load(ir_dir), device(device_name), calibration.load()
    est = optimise(model, dev, calib, clock_mhz, cap)
    if not dataflow_problems(est):
        return est, None
    return est, plan_sequential(model, dev, clock_mhz, cap)


@checked(out=new_dir, hls=existing_dir, device_name=one_of(*DEVICES))
def report_cmd(
    ir_dir: Annotated[Path, typer.Option("--ir", help="IR folder")],
    device_name: Annotated[str, typer.Option(
        "--device", help=f"one of {', '.join(DEVICES)}")] = "xc7z020",
    clock_mhz: Annotated[float | None, typer.Option(
        help="clock (default: the device's typical fmax)")] = None,
    cap: Annotated[float, typer.Option(help="share of each resource the plan may use")] = 0.8,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON line")] = False,
    out: Annotated[Path | None, typer.Option(
        help="folder for report.html and estimate.json")] = None,
    hls: Annotated[Path | None, typer.Option(
        help="hls4ml project synthesised by Vivado HLS (its csynth.xml goes beside ours)")
    ] = None,
) -> None:
    """Plan PE/SIMD per layer for the device, and print resources, fit and images/s.

    When the one-engine-per-layer dataflow design cannot fit, the layer-sequential engine
    (one shared MAC array, weights from the board's DDR) planned for the device's board is
    shown beside it (JSON key `sequential`): what `hccr rtl --device` generates then.
    """
    est, seq = plan_report(ir_dir, device_name, clock_mhz, cap)
    doc = {**est.as_json(), "sequential": seq.as_json() if seq else None}
    if out is not None:
        csynth = None
        if hls is not None:
            found = find_csynth(hls)
            if found is None:
                raise HccrError(f"{hls}: no csynth.xml (run Vivado HLS csynth in the project)")
            csynth = parse_csynth(found)
        write_html(est, out, csynth, seq)
        (out / "estimate.json").write_text(json.dumps(doc, indent=1) + "\n")
    if as_json:
        typer.echo(json.dumps({k: v for k, v in doc.items() if k != "layers"}))
        return
    for table in rich_tables(est, seq):
        console.print(table)
    if out is not None:
        console.print(f"wrote {out}/report.html and estimate.json", highlight=False)


def register(app: typer.Typer) -> None:
    """Add `report` to the top-level app."""
    errors = user_errors(FoldingError, ReportError, ir.IRError, OSError)
    app.command("report")(errors(report_cmd))
