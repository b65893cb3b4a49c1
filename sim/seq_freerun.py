"""Free-running simulation of the layer-sequential engine: no Python per cycle.

`seq_freerun_top` (hw/rtl/seq/sim/) holds `seq_engine`, an SV DDR model (`seq_ddr_model`:
AXI4 slave, INCR bursts, read latency and a bandwidth cap of the board's DDR bytes per cycle,
several reads in flight) preloaded from `ddr.mem`, and a register sequence written in SV
(program/data/input/output bases, image count, START, wait for the interrupt, read the
counters). `simulate_seq` lays program, data and input records out in DDR as the driver does,
builds (cached by sources and parameters: any engine change rebuilds), runs, and reads back
the output records and the counters. cocotb only starts the clock-free model and waits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hw.gen import seq_regs
from hw.gen.seq import exits
from hw.gen.seq.compiler import Program
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import program_cycles
from hw.gen.seq.outdir import engine_generics, engine_sources
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from sim import runner
from sim.freerun import TIMING

HARNESS = runner.RTL_DIR / "seq" / "sim"
PROGRAM_BASE = 0x1000
DDR_BYTES = 8 << 23  # the DDR model's array (seq_ddr_model WORDS)
COUNTERS = ("STATUS", "ERROR_CODE", "CYCLES_LO", "CYCLES_HI", "STALL_LO", "STALL_HI",
            "IMAGES_DONE")
WRITE, WAIT_IRQ, READ = 1, 2, 3  # script ops (seq_freerun_top.sv)


def sources(folder: Path) -> list[Path]:
    """seq_engine's sources in compile order, the register block generated into `folder`."""
    regs = seq_regs.csr_sources(folder)[:-1]  # waivers, generated package and module
    return [*regs, *engine_sources()]


def parameters(config: EngineConfig) -> dict[str, int]:
    """seq_engine's generics for `config` (the free-running top takes the same)."""
    return engine_generics(config)



def contract_cycles(program: Program, images: int) -> int:
    """Cycles the timing contract gives `images` images, batch by batch (the last one short
    when `images` is not a multiple of the batch)."""
    batch = program.header.batch
    return sum(c for first in range(0, images, batch)
               for _, _, c in program_cycles(program, min(batch, images - first)))


def _up(n: int, align: int) -> int:
    return -(-n // align) * align


@dataclass(frozen=True)
class Layout:
    """Where the driver puts things in DDR: data after the program (64-byte aligned), input
    and output records 4 KiB aligned (as tb_seq_engine and the board driver do)."""

    program: int
    data: int
    inputs: int
    outputs: int
    output_bytes: int

    @classmethod
    def of(cls, program_bytes: int, data_bytes: int, input_bytes: int, output_bytes: int
           ) -> Layout:
        data = PROGRAM_BASE + _up(program_bytes, 64)
        inputs = _up(data + data_bytes + 1, 4096)
        outputs = _up(inputs + input_bytes + 1, 4096)
        return cls(PROGRAM_BASE, data, inputs, outputs, output_bytes)


@dataclass
class SeqRun:
    """One free-running run: output records, the engine's counters (`result`: status,
    error_code, cycles, stall, images_done, irq_cycles), the cycle limit flag, wall and CPU
    time of the simulator, and the run directory."""

    outputs: bytes
    result: dict
    timeout: bool
    wall_s: float
    cpu_s: float
    directory: Path

    @property
    def cycles_per_cpu_s(self) -> float:
        return self.result["irq_cycles"] / max(self.cpu_s, 1e-9)


def _words(raw: bytes) -> str:
    pad = raw + bytes(-len(raw) % 8)
    return "".join(f"{v:016x}\n" for v in np.frombuffer(pad, "<u8").tolist())


def _write_ddr(path: Path, regions: list[tuple[int, bytes]]) -> None:
    with open(path, "w") as out:
        for base, raw in regions:
            out.write(f"@{base // 8:x}\n")
            out.write(_words(raw))


def _script(layout: Layout, program_bytes: int, images: int) -> list[int]:
    regs = seq_regs.register_map()
    ctrl = regs["CTRL"].fields
    writes = [("PROGRAM_BASE", layout.program), ("PROGRAM_BYTES", program_bytes),
              ("DATA_BASE", layout.data), ("INPUT_BASE", layout.inputs),
              ("OUTPUT_BASE", layout.outputs), ("IMAGE_COUNT", images),
              ("CTRL", ctrl["IRQ_EN"].mask | ctrl["START"].mask)]
    entries = [WRITE << 56 | regs[n].address << 32 | v for n, v in writes]
    entries.append(WAIT_IRQ << 56)
    entries += [READ << 56 | regs[n].address << 32 for n in COUNTERS]
    return entries


def build(config: EngineConfig, folder: Path, root: Path | None = None) -> runner.Build:
    """The harness with `config`'s engine (cached by sources and parameters)."""
    return runner.build("seq_freerun_top", [*sources(folder / "regs"),
                                            HARNESS / "seq_ddr_model.sv",
                                            HARNESS / "seq_freerun_top.sv"],
                        parameters(config), options=TIMING, public=False, root=root)


def simulate_seq(program: Program, inputs: bytes, images: int, folder: str | Path, *,
                 jitter: int = 0, rpause: bool = False, seed: int = 1,
                 latency: int | None = None, rate: float | None = None,
                 root: Path | None = None) -> SeqRun:
    """Run `images` input records (`records.pack_inputs`) through the engine, free-running,
    with the DDR latency and rate of `program.config`.

    Args:
        folder: where the harness is generated and run (`run/` inside is replaced).
        jitter: extra read latency mask (0, 1, 3, 7, ...: up to that many cycles, random).
        rpause: random pauses on the R channel.
        seed: LFSR seed of the DDR model.
        latency, rate: DDR read latency (cycles) and bytes per cycle instead of the
            configuration's (what-if runs).
        root: Verilator build root.
    """
    folder = Path(folder).resolve()
    cfg = program.config
    code = program.encode()
    out_bytes = program.header.output_bytes * images
    layout = Layout.of(len(code), len(program.data), len(inputs), out_bytes)
    if layout.outputs + out_bytes > DDR_BYTES:
        raise ValueError(f"program, data and records need {layout.outputs + out_bytes} bytes, "
                         f"the DDR model holds {DDR_BYTES}")
    built = build(cfg, folder, root)
    run = folder / "run"
    run.mkdir(parents=True, exist_ok=True)
    for stale in ("ddr_out.mem", "seq_reads.txt", "freerun.json", "results.xml"):
        (run / stale).unlink(missing_ok=True)
    _write_ddr(run / "ddr.mem", [(layout.program, code), (layout.data, program.data),
                                 (layout.inputs, inputs)])
    limit = min(4 * contract_cycles(program, images) + 1_000_000, 2**32 - 1)
    latency = cfg.ddr_latency if latency is None else latency
    rate = cfg.ddr_bytes_per_cycle if rate is None else rate
    words = [max(latency, 1), jitter, round(rate * 256), int(rpause),
             seed & 0xFFFFFFFF or 1, int(limit), layout.outputs // 8,
             (layout.outputs + max(out_bytes, 1) - 1) // 8]
    (run / "seq_cfg.mem").write_text("".join(f"{w:08x}\n" for w in words))
    (run / "seq_script.mem").write_text("".join(
        f"{e:016x}\n" for e in _script(layout, len(code), images)))
    sim = runner.run(built, "sim.tb.seq_freerun", run)
    info_path = run / "freerun.json"
    if not info_path.exists():
        raise runner.SimError(f"seq_freerun_top: no result in {run}: {sim.message}")
    info = json.loads(info_path.read_text())
    reads = {int(a, 16): int(v, 16) for a, v in (line.split() for line in
                                                  (run / "seq_reads.txt").read_text()
                                                  .splitlines() if line.strip())}
    regs = seq_regs.register_map()
    value = {n: reads.get(regs[n].address, 0) for n in COUNTERS}
    result = {"status": value["STATUS"], "error_code": value["ERROR_CODE"],
              "cycles": value["CYCLES_LO"] | value["CYCLES_HI"] << 32,
              "stall": value["STALL_LO"] | value["STALL_HI"] << 32,
              "images_done": value["IMAGES_DONE"], "irq_cycles": info["irq_cycles"]}
    return SeqRun(_read_outputs(run / "ddr_out.mem", out_bytes), result, info["error"],
                  info["wall_s"], info["cpu_s"], run)


def _read_outputs(path: Path, nbytes: int) -> bytes:
    words = [int(t, 16) for line in path.read_text().splitlines()
             for t in line.split() if t and not t.startswith(("@", "//"))]
    return np.array(words, np.uint64).astype("<u8").tobytes()[:nbytes]


def bit_exact_images(model: ir.Model, program: Program, x: np.ndarray | dict, raw: bytes
                     ) -> int:
    """How many of the images `x` have every output in `raw` (output records) equal to
    golden's; with exits (IR v2), how many have golden's (class, exit point) in their result
    record and golden's logits at every exit point up to theirs (later outputs are not
    written for an image that left)."""
    n = len(x) if isinstance(x, np.ndarray) else len(next(iter(x.values())))
    got, want = unpack_outputs(program, raw, n), golden.run(model, x)
    if not model.exits:
        return sum(all(np.array_equal(got[o][i], want[o][i]) for o in model.outputs)
                   for i in range(n))
    classes, points = golden.exit_decide(model, want)
    got_classes, got_points, written = exits.read_results(
        raw, program.header.output_bytes, exits.result_offset(program.instructions), n)
    return sum(bool(written[i] and got_classes[i] == classes[i] and got_points[i] == points[i])
               and all(np.array_equal(got[t][i], want[t][i])
                       for point in model.exits[:points[i] + 1] for t in point.logits)
               for i in range(n))


def run_against_golden(model: ir.Model, program: Program, x: np.ndarray, folder: str | Path
                       ) -> dict:
    """`simulate_seq` on the images `x`, compared with golden: images, bit_exact, batch,
    cycles_per_image (measured), contract_per_image, images_per_s (measured, at the engine
    clock), error_code, timeout, stall (cycles), cycles_per_cpu_s, wall_s."""
    n = len(x)
    run = simulate_seq(program, pack_inputs(program, x), n, folder)
    measured = run.result["cycles"] / n
    return {"images": n, "bit_exact": int(bit_exact_images(model, program, x, run.outputs)),
            "batch": program.header.batch, "cycles_per_image": measured,
            "contract_per_image": contract_cycles(program, n) / n,
            "images_per_s": program.config.clock_mhz * 1e6 / measured,
            "error_code": run.result["error_code"], "timeout": run.timeout,
            "stall": run.result["stall"], "cycles_per_cpu_s": run.cycles_per_cpu_s,
            "wall_s": round(run.wall_s, 1)}
