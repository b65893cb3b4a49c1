"""`hccr rtl` (IR → SystemVerilog dataflow network) and `hccr sim` (whole images vs golden)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape

from base.errors import HccrError
from flow.cmd_report import dataflow_problems, plan_report
from flow.console import console, user_errors
from flow.validate import (
    at_least,
    checked,
    existing,
    existing_dir,
    existing_file,
    input_array,
    new_dir,
)
from hw.boards import BOARDS, Board, board, board_of
from hw.devices import DEVICES
from hw.estimate.plan import planned_folding
from hw.gen.engines import Folding, FoldingError
from hw.gen.folding import balanced_folding, load_folding
from hw.gen.network import Network
from hw.gen.rtl_dir import open_rtl_dir, write_rtl_dir
from hw.gen.seq.batch import BatchChoice
from hw.gen.seq.config import DEFAULT_ARRAY, EngineConfig, board_config, shift_only
from hw.gen.seq.files import load_program
from hw.gen.seq.outdir import MARKER as SEQ_MARKER
from hw.gen.seq.outdir import write_seq_dir
from model.data.dataset import load_images
from model.data.gnt import GntError
from quant import ir
from sim.check import NetworkCheck, check_network
from sim.freerun import MODES
from sim.runner import SimError
from sim.seq_freerun import run_against_golden

SIM_SUBDIR = "sim"


MODES_RTL = ("dataflow", "sequential", "auto")


@checked(out=new_dir, folding=existing_file)
def rtl_cmd(
    ir_dir: Annotated[Path, typer.Option("--ir", help="IR folder")],
    out: Annotated[Path, typer.Option(help="folder to write (replaced if an earlier output)")],
    mode: Annotated[str, typer.Option(
        help="dataflow (one engine per layer, weights on chip), sequential (one shared "
             "engine running a program, weights from DDR), or auto: with --device, the "
             "design `hccr report` plans for it, else dataflow")] = "auto",
    device_name: Annotated[str | None, typer.Option(
        "--device", help=f"plan for this device ({', '.join(DEVICES)}) as `hccr report` "
                         "does: its dataflow folding, or the sequential engine on the "
                         "device's board when no dataflow design fits")] = None,
    folding: Annotated[Path | None, typer.Option(
        help='dataflow: JSON of PE/SIMD per layer, e.g. {"conv1": {"PE": 16, "SIMD": 1}}')
    ] = None,
    balance: Annotated[bool, typer.Option(
        "--balance", help="dataflow: choose PE/SIMD so no layer is slower than the widest "
                          "stream")] = False,
    board_name: Annotated[str, typer.Option(
        "--board", help=f"sequential: the board ({', '.join(BOARDS)})")] = "pynq-z2",
    pe: Annotated[int | None, typer.Option(
        help=f"sequential: output channels per cycle (default {DEFAULT_ARRAY[0]})")] = None,
    simd: Annotated[int | None, typer.Option(
        help=f"sequential: input bytes per cycle, a power of two 4..64 (default "
             f"{DEFAULT_ARRAY[1]})")] = None,
    act_kb: Annotated[int | None, typer.Option(
        help="sequential: activation buffer in KiB (default: 90 % of the device's block RAM "
             "less the weight tiles)")] = None,
    tile_kb: Annotated[int | None, typer.Option(
        help="sequential: one weight-tile buffer in KiB (default 64)")] = None,
    batch: Annotated[int | None, typer.Option(
        help="sequential: images per weight pass (default: chosen for the board's DDR)")] = None,
    clock_mhz: Annotated[float, typer.Option(help="sequential: engine clock")] = 200.0,
) -> None:
    """Generate the RTL design for an IR: the streaming dataflow network (top, .mem ROMs,
    network.json, ir/), or the layer-sequential engine with its program (engine.json,
    program/, rtl/, vivado/package_ip.tcl, ir/)."""
    if mode not in MODES_RTL:
        raise HccrError(f"--mode {mode!r}: one of {', '.join(MODES_RTL)}")
    model = ir.load(ir_dir)
    planned = None
    if device_name is not None:
        if folding is not None or balance:
            raise HccrError("--device plans the folding: give it without --folding/--balance")
        if any(v is not None for v in (pe, simd, act_kb, tile_kb)):
            raise HccrError("--device plans the engine: give it without --pe/--simd/--act-kb/"
                            "--tile-kb")
        mode, planned, target, engine = _device_plan(ir_dir, device_name, mode)
        board_name = target.name
        if mode == "sequential" and engine is not None:
            _report_sequential(write_seq_dir(model, out, engine, target, batch), target, out)
            return
    if mode == "sequential":
        _sequential(model, out, board(board_name), DEFAULT_ARRAY[0] if pe is None else pe,
                    DEFAULT_ARRAY[1] if simd is None else simd, act_kb,
                    64 if tile_kb is None else tile_kb, batch, clock_mhz)
        return
    if folding is not None and balance:
        raise HccrError("give --folding or --balance, not both")
    fold = (planned if planned is not None else load_folding(folding, model)
            if folding is not None else balanced_folding(model) if balance else {})
    net = write_rtl_dir(model, out, fold)
    for e in net.engines:
        f = e.params
        console.print(f"  {e.name:<12} {e.module:<8} PE {f.get('PE', 1):>3} SIMD "
                      f"{f.get('SIMD', 1):>3}  {e.cycles:>9} cycles/image", highlight=False)
    slowest = max(net.engines, key=lambda e: e.bound_cycles)
    console.print(f"{len(net.engines)} engines, {len(net.mem_files)} ROM images → {out}/ "
                  f"({net.top_file.name}, network.json, ir/); pipeline {net.pipeline_cycles} "
                  f"cycles/image, slowest {slowest.name}", highlight=False)
    if not fold and planned is None:
        console.print("note: no folding given, every layer has PE = SIMD = 1 (slowest design);"
                      " --balance picks one", highlight=False)


def _device_plan(ir_dir: Path, device_name: str, mode: str
                 ) -> tuple[str, dict[str, Folding], Board, EngineConfig | None]:
    """(mode, dataflow folding, board, engine) for `--device`: `hccr report`'s plans
    (`plan_report`): auto picks dataflow when it can be built, else the layer-sequential
    engine the report plans (its configuration; None when the report planned none)."""
    est, seq = plan_report(ir_dir, device_name)
    target = board_of(est.device.name)
    if target is None:
        raise HccrError(f"no board known with {est.device.name} (boards: "
                        f"{', '.join(BOARDS)})")
    why = dataflow_problems(est)
    if mode == "auto":
        mode = "sequential" if why else "dataflow"
        console.print(f"{est.device.name}: " + (
            f"dataflow design fits ({est.total.dsp} DSP, {est.total.bram36:g} BRAM36, "
            f"{est.cycles:,} cycles/image), generating it" if not why else
            "no dataflow design fits (" + "; ".join(why) + "), generating the "
            f"layer-sequential engine for {target.name}"), highlight=False)
    elif mode == "dataflow" and why:
        console.print(f"warning: the planned dataflow design does not fit {est.device.name}: "
                      + "; ".join(why), highlight=False)
    return mode, planned_folding(est), target, seq.config if seq is not None else None


def _sequential(model: ir.Model, out: Path, target: Board, pe: int, simd: int,
                act_kb: int | None, tile_kb: int, batch: int | None, clock_mhz: float) -> None:
    """`hccr rtl --mode sequential`: compile the program and write the design folder."""
    for name, value in (("--pe", pe), ("--simd", simd), ("--tile-kb", tile_kb),
                        ("--act-kb", act_kb), ("--batch", batch)):
        if value is not None and value < 1:
            raise HccrError(f"{name} must be at least 1, got {value}")
    if not math.isfinite(clock_mhz) or clock_mhz <= 0:
        raise HccrError(f"--clock-mhz must be a positive number, got {clock_mhz}")
    tile = tile_kb * 1024
    try:
        config = board_config(target, pe, simd, None if act_kb is None else act_kb * 1024,
                              tile, clock_mhz, unit_m=shift_only(model))
    except ValueError as exc:
        raise HccrError(str(exc)) from None
    act = config.act_bytes
    if act + 2 * tile > target.device.bram_bytes:
        raise HccrError(f"--act-kb {act // 1024} and two --tile-kb {tile_kb} buffers need "
                        f"{(act + 2 * tile) // 1024} KiB, more than {target.part}'s "
                        f"{target.device.bram_bytes // 1024} KiB of block RAM")
    _report_sequential(write_seq_dir(model, out, config, target, batch), target, out)


def _report_sequential(choice: BatchChoice, target: Board, out: Path) -> None:
    """Print what `write_seq_dir` wrote."""
    h, cfg = choice.program.header, choice.program.config
    console.print(f"layer-sequential engine PE {cfg.pe} × SIMD {cfg.simd}, activations "
                  f"{cfg.act_bytes // 1024} KiB (program needs {h.act_bytes / 1024:.0f}), on "
                  f"{target.name}: "
                  f"{h.instructions} instructions, {len(choice.program.data):,} bytes of "
                  f"weights and parameters, batch {h.batch}", highlight=False)
    console.print(f"{choice.cycles_per_image:,.0f} cycles/image = {choice.images_per_s:,.0f} "
                  f"images/s at {cfg.clock_mhz:g} MHz (timing contract); DDR "
                  f"{choice.ddr_bytes_per_image / 1e6:.2f} MB/image, {choice.ddr_gb_s:.2f} of "
                  f"{target.ddr_gb_s:.2f} GB/s → {out}/", highlight=False)
    console.print(f"bitstream and PYNQ overlay for {target.name}: cd {out} && vivado -mode batch "
                  "-source vivado/build_overlay.tcl", highlight=False)


def _images(model: ir.Model, n: int, data: Path | None, inputs: Path | None,
            seed: int) -> np.ndarray:
    """`n` input images: from a .gnt file/folder, an .npy array, or uniform random."""
    spec = model.tensors[model.inputs[0]]
    if n < 1:
        raise HccrError(f"--images must be at least 1, got {n}")
    if data is not None and inputs is not None:
        raise HccrError("give --data or --inputs, not both")
    if inputs is not None:
        x = input_array(inputs, spec.shape, spec.dtype, spec.lo, spec.hi)
    elif data is not None:
        h, w, c = spec.shape
        if h != w or c != 1 or spec.dtype != "uint8":
            raise HccrError(f"input '{spec.name}' is {list(spec.shape)} {spec.dtype}, not a "
                            "square uint8 image: use --inputs or random inputs")
        x = load_images(data, h).images[..., None]
    else:
        rng = np.random.default_rng(seed)
        return rng.integers(spec.lo, spec.hi, (n, *spec.shape), endpoint=True).astype(spec.dtype)
    if len(x) < n:
        raise HccrError(f"{data or inputs}: {len(x)} images, --images asks for {n}")
    return x[:n]


def simulate(model: ir.Model, net: Network, x: np.ndarray, directory: Path,
             backpressure: str = "random", seed: int = 1) -> NetworkCheck:
    """`check_network` in a fresh `directory`, a simulator failure as a one-line error."""
    shutil.rmtree(directory, ignore_errors=True)
    with console.status(f"simulating {len(x)} images (Verilator; first build takes a while)"):
        try:
            return check_network(model, net, x, directory, backpressure=backpressure,
                                 seed=seed)
        except SimError as exc:  # one line, the log's path instead of its tail
            first = str(exc).splitlines()[0].removesuffix(":")
            raise HccrError(escape(first)) from None


@checked(rtl=existing_dir, n_images=at_least(1), data=existing, inputs=existing_file)
def sim_cmd(
    rtl: Annotated[Path, typer.Option(help="folder written by `hccr rtl`")],
    n_images: Annotated[int, typer.Option("--images", help="images to simulate")] = 20,
    data: Annotated[Path | None, typer.Option(help=".gnt file or folder")] = None,
    inputs: Annotated[Path | None, typer.Option(help=".npy of images [N, H, W(, C)]")] = None,
    backpressure: Annotated[str | None, typer.Option(
        help=f"dataflow: source idles and sink stalls, {' | '.join(MODES)} (default random)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of random inputs and stall patterns")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Simulate whole images on the RTL (Verilator), compare bit for bit with golden.

    Prints cycles per image beside the analytical estimate; on a mismatch names the first
    differing layer and element, writes a waveform under RTL/sim/debug/ and exits 1.
    A layer-sequential folder runs free-running on its board's DDR model (exit 1 on a
    mismatch).
    """
    if (rtl / SEQ_MARKER).is_file():
        if backpressure is not None:
            raise HccrError(f"--backpressure: for dataflow folders; {rtl} is a "
                            "layer-sequential design (its DDR model sets the stalls)")
        _sim_sequential(rtl, n_images, data, inputs, seed, as_json)
        return
    backpressure = backpressure or "random"
    if backpressure not in MODES:
        raise HccrError(f"--backpressure {backpressure!r}: one of {', '.join(MODES)}")
    model, net = open_rtl_dir(rtl)
    x = _images(model, n_images, data, inputs, seed)
    directory = rtl / SIM_SUBDIR
    check = simulate(model, net, x, directory, backpressure, seed)
    (directory / "result.json").write_text(json.dumps(check.as_json(), indent=1) + "\n")
    if as_json:
        typer.echo(json.dumps(check.as_json()))
    else:
        typer.echo(check.summary())
        typer.echo(check.cycles_line())
    if not check.ok:
        raise typer.Exit(1)


def _sim_sequential(rtl: Path, n_images: int, data: Path | None, inputs: Path | None,
                    seed: int, as_json: bool) -> None:
    """`hccr sim` on a layer-sequential design folder: its program on its engine, free-running
    with the board's DDR latency and rate, every output record against golden."""
    model = ir.load(rtl / "ir")
    program = load_program(rtl / "program")
    x = _images(model, n_images, data, inputs, seed)
    with console.status(f"Verilator: build the engine and run {len(x)} images"):
        result = run_against_golden(model, program, x, rtl / SIM_SUBDIR)
    (rtl / SIM_SUBDIR / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    exact, measured, contract = (result["bit_exact"], result["cycles_per_image"],
                                 result["contract_per_image"])
    if as_json:
        typer.echo(json.dumps(result))
    else:
        code = "" if exact == len(x) else f" (error code {result['error_code']})"
        typer.echo(f"layer-sequential engine: {exact}/{len(x)} images bit-exact against "
                   f"golden{code}")
        typer.echo(f"cycles/image: {measured:,.0f} measured, {contract:,.0f} by the timing "
                   f"contract ({measured / contract:.3f} ×), {result['images_per_s']:,.0f} "
                   f"images/s at {program.config.clock_mhz:g} MHz")
    if exact != len(x):
        raise typer.Exit(1)


RTL_ERRORS = (FoldingError, ir.IRError, GntError, SimError, OSError, ValueError)


def register(app: typer.Typer) -> None:
    """Add `rtl` and `sim` to the top-level app."""
    errors = user_errors(*RTL_ERRORS)
    app.command("rtl")(errors(rtl_cmd))
    app.command("sim")(errors(sim_cmd))
