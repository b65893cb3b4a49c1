"""`hccr hls`: IR → hls4ml Vivado HLS project, optionally C-simulated (`hccr compare` uses it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from base.errors import HccrError
from flow.console import console, progress, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_file,
    finite_above,
    new_dir,
    one_of,
)
from hw.hls import config as hls_config
from hw.hls.compare import CompareResult, csim, single_input
from hw.hls.lower import Unsupported
from hw.hls.project import HlsBuildError, HlsProject, write_project
from model.data.dataset import load_images
from model.data.gnt import GntError
from quant import ir

TESTBENCH_IMAGES = 10


def input_images(model: ir.Model, n: int, data: Path | None, seed: int = 0) -> np.ndarray:
    """`n` input images `[n, H, W, C]`: the first of a `.gnt` file/folder, else uniform random."""
    spec = single_input(model)
    if n < 1:
        raise HccrError(f"--images must be at least 1, got {n}")
    if data is None:
        rng = np.random.default_rng(seed)
        return rng.integers(spec.lo, spec.hi, (n, *spec.shape), endpoint=True).astype(spec.dtype)
    h, w, c = spec.shape
    if (h != w or c != 1 or spec.dtype != "uint8"):
        raise HccrError(f"input '{spec.name}' is {list(spec.shape)} {spec.dtype}, not a square "
                        "uint8 image: give no --data for random inputs")
    x = load_images(data, h).images[:n, ..., None]
    if len(x) < n:
        raise HccrError(f"{data}: {len(x)} images, --images asks for {n}")
    return x


def hls_settings(config: Path | None, part: str | None, clock_ns: float | None,
                 strategy: str | None, reuse_factor: list[str] | None) -> hls_config.HlsConfig:
    """The project settings: a settings file (or the defaults) with the command's flags over it."""
    layers: dict[str, dict[str, object]] = {}
    for item in reuse_factor or []:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise HccrError(f"--reuse-factor expects LAYER=RF, e.g. conv1=9, got {item!r}")
        layers[name.strip()] = {"reuse_factor": int(value)}
    flags = {"part": part, "clock_ns": clock_ns, "strategy": strategy, "layers": layers or None}
    if config is None:
        return hls_config.with_overrides(hls_config.HlsConfig(), **flags)
    return hls_config.load(config, **flags)


def csim_progress(project: HlsProject, x: np.ndarray) -> CompareResult:
    """`csim` on images `x` with a progress bar (on stderr)."""
    with progress() as bar:
        task = bar.add_task("C-simulation", total=len(x), info="compiling")
        result = csim(project, x, advance=lambda n: bar.update(task, advance=n, info=""))
    return result


_PART = typer.Option(help="FPGA part [default: xc7z020clg400-1]")
_CLOCK = typer.Option(help="clock period in ns [default: 5]")
CONFIG_OPTION = typer.Option(help="settings file (YAML/JSON): strategy, reuse_factor, layers, …")
_STRATEGY = typer.Option(help="Strategy of every layer with weights: Resource or Latency")
_RF = typer.Option(help="ReuseFactor of one layer, LAYER=RF; repeatable")
_IMAGES = typer.Option(help="images for the test bench / C-simulation")
DATA_OPTION = typer.Option(help=".gnt file or folder (default: random inputs)")


@checked(out=new_dir, clock_ns=finite_above(0), config=existing_file,
         strategy=one_of("Resource", "Latency"), n_images=at_least(1), data=existing)
def hls_cmd(
    ir_dir: Annotated[Path, typer.Option("--ir", help="IR folder (power-of-two scheme or any)")],
    out: Annotated[Path, typer.Option(help="project folder to write")],
    part: Annotated[str | None, _PART] = None,
    clock_ns: Annotated[float | None, _CLOCK] = None,
    config: Annotated[Path | None, CONFIG_OPTION] = None,
    strategy: Annotated[str | None, _STRATEGY] = None,
    reuse_factor: Annotated[list[str] | None, _RF] = None,
    run_csim: Annotated[bool, typer.Option("--csim", help="compile with g++ and C-simulate "
                                                          "--images images against golden")
                        ] = False,
    n_images: Annotated[int, typer.Option("--images", help="images for the test bench and "
                                                           "C-simulation")] = TESTBENCH_IMAGES,
    data: Annotated[Path | None, DATA_OPTION] = None,
) -> None:
    """Write a Vivado HLS project (hls4ml, io_stream) for an IR; optionally C-simulate it."""
    model = ir.load(ir_dir)
    settings = hls_settings(config, part, clock_ns, strategy, reuse_factor)
    x = input_images(model, n_images, data)
    project = write_project(model, out, settings, {model.inputs[0]: x})
    console.print(f"{len(project.lowered.layers)} hls4ml layers, part {settings.part}, "
                  f"{settings.clock_ns} ns → {out}/ (build_prj.tcl, firmware/, tb_data/)")
    if run_csim:
        result = csim_progress(project, x)
        console.print(f"compile {project.compile_seconds:.1f} s; {result.summary()}",
                      highlight=False)
        if result.bit_exact != result.images:
            raise typer.Exit(1)


HLS_ERRORS = (GntError, ir.IRError, Unsupported, hls_config.ConfigError, HlsBuildError,
              FileExistsError, ValueError)


def register(app: typer.Typer) -> None:
    """Add `hls` to the top-level app."""
    app.command("hls")(user_errors(*HLS_ERRORS)(hls_cmd))
