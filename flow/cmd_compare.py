"""`hccr compare`: golden vs a back end (`hls` C-simulation or `rtl` simulation), bit for bit.

Both back ends print the same summary line and `--json` object (`quant.compare.CompareResult`):
`{"backend", "images", "bit_exact", "first_mismatch"}`, and exit 1 on any mismatch.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from base.errors import HccrError
from flow.cmd_hls import (
    CONFIG_OPTION,
    DATA_OPTION,
    HLS_ERRORS,
    TESTBENCH_IMAGES,
    csim_progress,
    hls_settings,
    input_images,
)
from flow.cmd_rtl import RTL_ERRORS, SIM_SUBDIR, simulate
from flow.console import user_errors
from flow.validate import at_least, checked, existing, existing_dir, existing_file
from hw.gen.folding import balanced_folding
from hw.gen.network import load
from hw.gen.rtl_dir import open_rtl_dir, write_rtl_dir
from hw.hls.project import write_project
from quant import ir
from quant.compare import CompareResult

BACKENDS = ("hls", "rtl")


def _hls(model: ir.Model, x: np.ndarray, config: Path | None) -> tuple[CompareResult, str]:
    """C-simulate the hls4ml project of `model` (in a temporary folder) on `x`."""
    settings = hls_settings(config, None, None, None, None)
    with tempfile.TemporaryDirectory(prefix="hccr_hls_") as tmp:
        project = write_project(model, Path(tmp) / "project", settings,
                                {model.inputs[0]: x[:TESTBENCH_IMAGES]})
        result = csim_progress(project, x)
    return result, result.summary()


def _rtl(model: ir.Model, x: np.ndarray, rtl: Path | None) -> tuple[CompareResult, str]:
    """Simulate the RTL of `model` (the folder `rtl`, else generated with balanced folding in a
    temporary folder) on `x`, free-running with random backpressure."""
    if rtl is not None:
        open_rtl_dir(rtl)  # an RTL folder at all
        net = load(rtl, model)  # and one generated from this IR
        check = simulate(model, net, x, rtl / SIM_SUBDIR)
        return check.result, check.summary()
    with tempfile.TemporaryDirectory(prefix="hccr_rtl_") as tmp:
        net = write_rtl_dir(model, Path(tmp) / "rtl", balanced_folding(model))
        check = simulate(model, net, x, Path(tmp) / "rtl" / SIM_SUBDIR)
    return check.result, check.summary(waves=False)


@checked(n_images=at_least(1), data=existing, config=existing_file, rtl=existing_dir)
def compare_cmd(
    ir_dir: Annotated[Path, typer.Option("--ir", help="IR folder")],
    against: Annotated[str, typer.Option(help=f"back end: {' | '.join(BACKENDS)}")],
    n_images: Annotated[int, typer.Option("--images", help="images to compare")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    data: Annotated[Path | None, DATA_OPTION] = None,
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    rtl: Annotated[Path | None, typer.Option(
        help="rtl: folder written by `hccr rtl` for this IR (default: generate one with "
             "balanced folding in a temporary folder)")] = None,
) -> None:
    """Golden vs a back end, bit for bit; exit 1 on mismatch.

    hls: C-simulation, every output and traced layer. rtl: Verilator, free-running with random
    backpressure; on a mismatch the first differing layer is found by tracing every engine.
    """
    if against not in BACKENDS:
        raise HccrError(f"--against {against!r}: unknown back end (choose from "
                        f"{', '.join(BACKENDS)})")
    if against != "rtl" and rtl is not None:
        raise HccrError("--rtl is for --against rtl")
    if against != "hls" and config is not None:
        raise HccrError("--config is for --against hls")
    model = ir.load(ir_dir)
    x = input_images(model, n_images, data)
    result, line = _hls(model, x, config) if against == "hls" else _rtl(model, x, rtl)
    typer.echo(json.dumps(result.as_json()) if as_json else line)
    if result.bit_exact != result.images:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `compare` to the top-level app."""
    app.command("compare")(user_errors(*dict.fromkeys(HLS_ERRORS + RTL_ERRORS))(compare_cmd))
