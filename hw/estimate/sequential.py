"""The layer-sequential engine (`hw/rtl/seq/`) on a board: the resources of one configuration
(`EngineConfig`) and the speed of a network compiled for it.

- DSP48E1s are counted from the multipliers the RTL instantiates (`dsps`), block RAMs from
  its memories (`memories`) mapped as Yosys maps them (`hw.estimate.memory`); LUT and FF are
  linear in `FEATURES`, fitted to Yosys `synth_xilinx` runs of the whole engine
  (`calibration_seq.json`, written by `python -m hw.estimate.calibrate_seq`). Where the
  configuration itself was synthesised, its Yosys counts are reported as measured.
- Cycles per image are the compiled program's timing contract (`hw.gen.seq.cycles`) at the
  batch `choose_batch` picks against the board's DDR; DDR bytes per image and the bandwidth
  they take are the program's.
- A device's plan (`plan_sequential`): its board (`hw.boards.board_of`), the largest array
  (PE·SIMD, then SIMD) the RTL builds whose resources fit the cap, `TILE_BYTES` weight tiles,
  and the largest activation buffer (whole block RAMs per bank) whose block RAM fits beside
  them; shift-only (`unit_m`) when every requantiser multiplier of the network is 1 (a
  power-of-two IR). `hccr rtl --device` generates this configuration.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from base.errors import HccrError
from hw.boards import Board, board_of
from hw.devices import Device
from hw.estimate.cost import Cost, memory_cost
from hw.estimate.memory import Memory
from hw.estimate.network import op_macs
from hw.gen.seq.batch import BatchChoice, choose_batch
from hw.gen.seq.config import (
    ACT_LIMIT,
    BRAM18_ROWS,
    EngineConfig,
    board_config,
    rtl_problems,
    shift_only,
)
from hw.gen.seq.cycles import program_cycles
from quant import ir

SEQ_CALIBRATION = Path(__file__).with_name("calibration_seq.json")
FEATURES = ("one", "macs", "simd")
TILE_BYTES = 64 * 1024
# DSPs of fixed width, whatever the configuration, as Yosys maps them: seq_mac's address
# arithmetic (10), seq_io's (3), the vector unit's 12 × 8 LUT-row product (1), seq_exit's
# 32 × 32 score product (4).
FIXED_DSPS = 18
# The vector unit's RAMs deeper than one RAM64M: Yosys adds the depth multiplexer to the
# distributed RAM's cost and takes block RAM (128 × 22 parameters at SIMD 8).
LUTRAM_ROWS = 64
AXI_FIFOS = ((64, 65), (32, 65))  # axi_dma_rd's and axi_dma_wr's data buffers (depth, width)


def features(cfg: EngineConfig) -> dict[str, float]:
    """The quantities the engine's LUT and FF are linear in: a constant, the MAC array's
    lanes (its adder trees and weight registers) and SIMD (activation lanes, vector unit),
    fitted; and the requantiser lanes built shift-only (PE + SIMD when `unit_m`), whose
    saving is measured on `requantiser.sv` alone (`calibrate_seq`)."""
    return {"one": 1.0, "macs": float(cfg.pe * cfg.simd), "simd": float(cfg.simd),
            "unit_lanes": float(cfg.pe + cfg.simd if cfg.unit_m else 0)}


def dsps(cfg: EngineConfig) -> int:
    """DSP48E1s: the packed MAC array (two PE lanes per multiplier, an odd lane alone), the
    requantisers' acc·M (2 each: seq_mac's PE lanes, seq_vec's SIMD lanes; none when
    shift-only), the vector unit's SIMD products, and `FIXED_DSPS`."""
    array = cfg.simd * (cfg.pe // 2 + cfg.pe % 2)
    requant = 0 if cfg.unit_m else 2 * (cfg.pe + cfg.simd)
    return array + requant + cfg.simd + FIXED_DSPS


def memories(cfg: EngineConfig) -> list[Memory]:
    """Every memory of the engine: SIMD activation banks, the two weight-tile buffers as
    PE·SIMD/8 lanes of 64-bit words, the vector unit's per-lane accumulator, parameter and
    LUT RAMs (MAX_C/SIMD rows; the parameter RAM is read in two pipeline stages, so in block
    RAM it is two copies), seq_exit's 256 × 64 exit table, seq_mac's parameter registers and
    the FIFOs."""
    lanes = cfg.pe * cfg.simd // 8
    rows = math.ceil(cfg.tile_bytes / 8 / lanes)
    vec_rows = cfg.max_c // cfg.simd
    deep = vec_rows > LUTRAM_ROWS
    params = [Memory("vec_param", vec_rows, 22, deep)] * (2 if deep else 1)
    return ([Memory("act_bank", cfg.act_bytes // cfg.simd, 8)] * cfg.simd
            + [Memory("tile_lane", 2 * rows, 64)] * lanes
            + [Memory("vec_acc", vec_rows, 32, deep), *params, Memory("vec_lut", 32, 64)]
            * cfg.simd
            + [Memory("exit_table", 256, 64)]
            + [Memory("mac_params", 2 * cfg.pe, 64),
               Memory("io_fifo", 4, cfg.simd * 8 + (cfg.simd + 1).bit_length() + 1)]
            + [Memory("axi_fifo", d, w) for d, w in AXI_FIFOS])


@dataclass(frozen=True)
class SeqCalibration:
    """The LUT/FF fit and the synthesised configurations it came from."""

    fit: dict[str, dict[str, float]]
    points: list[dict]
    requantiser: dict  # requantiser.sv alone, with and without multipliers (`unit_lanes`)
    yosys: str = ""

    def measured(self, cfg: EngineConfig) -> dict | None:
        """Yosys's counts of exactly this configuration, if it was synthesised."""
        keys = ("pe", "simd", "act_bytes", "tile_bytes", "max_c", "unit_m")
        want = {k: getattr(cfg, k) for k in keys}
        return next((p["synth"] for p in self.points
                     if {k: p["config"].get(k, False) for k in keys} == want), None)


def load_calibration(path: Path = SEQ_CALIBRATION) -> SeqCalibration:
    """Read `calibration_seq.json`.

    Raises:
        HccrError: unreadable or without a fit (run `python -m hw.estimate.calibrate_seq`).
    """
    try:
        doc = json.loads(Path(path).read_text())
        return SeqCalibration(dict(doc["fit"]), list(doc["points"]), dict(doc["requantiser"]),
                              str(doc.get("yosys", "")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise HccrError(f"{path}: cannot read the engine calibration ({exc}); run `python -m "
                        "hw.estimate.calibrate_seq`") from None


def engine_cost(cfg: EngineConfig, calib: SeqCalibration) -> Cost:
    """The engine's resources: DSP and block RAM counted, LUT and FF fitted."""
    feats = features(cfg)
    lut, ff = (sum(c * feats[k] for k, c in calib.fit[q].items()) for q in ("lut", "ff"))
    return Cost(max(lut, 0.0), max(ff, 0.0), dsps(cfg)) + memory_cost(memories(cfg))


@dataclass(frozen=True)
class SequentialPlan:
    """A network compiled for one engine configuration on a board."""

    board: Board
    choice: BatchChoice
    cost: Cost
    measured: dict | None  # Yosys's counts of this configuration, if synthesised
    macs: int
    cap: float

    @property
    def config(self) -> EngineConfig:
        return self.choice.program.config

    @property
    def device(self) -> Device:
        return self.board.device

    @property
    def cycles(self) -> float:
        return self.choice.cycles_per_image

    @property
    def images_per_s(self) -> float:
        return self.choice.images_per_s

    @property
    def batch(self) -> int:
        return self.choice.program.header.batch

    @property
    def latency_ms(self) -> float:
        """From an image's arrival to its result: its whole batch runs op by op."""
        return self.batch * self.cycles / (self.config.clock_mhz * 1e3)

    @property
    def roofline(self) -> float:
        """Images/s if every DSP of the device did two MACs per cycle."""
        return self.device.dsp * 2 * self.config.clock_mhz * 1e6 / self.macs

    @property
    def array_efficiency(self) -> float:
        """MACs per image over the array's MAC slots per image."""
        return self.macs / (self.config.pe * self.config.simd * self.cycles)

    def op_rows(self) -> list[tuple[str, str, int]]:
        """(op, opcode, cycles over a batch) of every instruction (the timing contract)."""
        return program_cycles(self.choice.program)

    def overflows(self) -> list[str]:
        c, d = self.cost, self.device
        why = [f"{res}: {used:,.0f} > {self.cap:.0%} of {budget:,} (engine "
               f"{self.config.pe}×{self.config.simd} and its buffers)"
               for res, used, budget in (("lut", c.lut, d.lut), ("ff", c.ff, d.ff),
                                         ("dsp", c.dsp, d.dsp), ("bram36", c.bram36, d.bram36))
               if used > self.cap * budget]
        if self.choice.ddr_gb_s > self.board.ddr_gb_s:
            why.append(f"DDR: {self.choice.ddr_gb_s:.2f} GB/s > {self.board.name}'s "
                       f"{self.board.ddr_gb_s:.2f}")
        return why

    def as_json(self) -> dict:
        cfg, c = self.config, self.cost
        return {"mode": "layer-sequential", "board": self.board.name,
                "device": self.device.name, "fits": not self.overflows(),
                "why": self.overflows(), "config": asdict(cfg), "pe": cfg.pe,
                "simd": cfg.simd, "clock_mhz": cfg.clock_mhz, "lut": round(c.lut),
                "ff": round(c.ff), "dsp": c.dsp, "bram36": c.bram36,
                "measured": self.measured, "cycles": round(self.cycles),
                "images_per_s": round(self.images_per_s, 1),
                "latency_ms": round(self.latency_ms, 4),
                "roofline_images_per_s": round(self.roofline, 1),
                "of_roofline": round(self.images_per_s / self.roofline, 4),
                "array_efficiency": round(self.array_efficiency, 4), "cap": self.cap,
                "batch": self.batch,
                "ddr_bytes_per_image": round(self.choice.ddr_bytes_per_image),
                "ddr_gb_s": round(self.choice.ddr_gb_s, 3),
                "board_ddr_gb_s": round(self.board.ddr_gb_s, 3)}


def plan_config(model: ir.Model, target: Board, cfg: EngineConfig, cap: float = 0.8,
                calib: SeqCalibration | None = None, batch: int | None = None
                ) -> SequentialPlan:
    """`model` compiled for the engine `cfg` on `target` (batch: `choose_batch`'s unless
    given).

    Raises:
        HccrError: the model does not compile for `cfg` (names the op).
    """
    calib = calib or load_calibration()
    choice = (choose_batch(model, cfg) if batch is None else
              choose_batch(model, cfg, batch, exactly=True))
    return SequentialPlan(target, choice, engine_cost(cfg, calib), calib.measured(cfg),
                          sum(op_macs(op, model) for op in model.ops), cap)


def _arrays() -> list[tuple[int, int]]:
    """Every (PE, SIMD) the RTL builds, the most MAC lanes first (then the wider SIMD)."""
    probe = EngineConfig(act_bytes=64, max_c=64)
    shapes = [(pe, simd) for simd in (4, 8, 16, 32, 64) for pe in range(1, simd + 1)
              if not rtl_problems(replace(probe, pe=pe, simd=simd))]
    return sorted(shapes, key=lambda s: (s[0] * s[1], s[1]), reverse=True)


def sized_config(target: Board, pe: int, simd: int, budget: float, clock_mhz: float,
                 calib: SeqCalibration, unit_m: bool = False) -> EngineConfig | None:
    """`board_config` with `TILE_BYTES` tiles and the largest activation buffer (a multiple
    of `BRAM18_ROWS` rows per bank, at most `ACT_LIMIT`) whose block RAM fits `budget` BRAM36,
    or None when not even `BRAM18_ROWS` rows fit."""
    fitting = None
    for rows in range(BRAM18_ROWS, ACT_LIMIT // simd + 1, BRAM18_ROWS):
        cfg = board_config(target, pe, simd, rows * simd, TILE_BYTES, clock_mhz, unit_m)
        if engine_cost(cfg, calib).bram36 > budget:
            break
        fitting = cfg
    return fitting


def plan_sequential(model: ir.Model, device: Device, clock_mhz: float | None = None,
                    cap: float = 0.8, calib: SeqCalibration | None = None
                    ) -> SequentialPlan | None:
    """The plan of the module doc for `device`, or None when no board carries it. Arrays
    whose buffers the network does not compile into are skipped; when none fits the cap, the
    plan is the largest that fits the whole device, and says what it overflows.

    Raises:
        HccrError: the network compiles for no array the device holds (names the op).
    """
    target = board_of(device.name)
    if target is None:
        return None
    calib = calib or load_calibration()
    clock = clock_mhz or device.fmax_mhz
    unit_m = shift_only(model)
    error: HccrError | None = None
    for share in (cap, 1.0):
        for pe, simd in _arrays():
            cfg = sized_config(target, pe, simd, share * device.bram36, clock, calib, unit_m)
            if cfg is None:
                continue
            cost = engine_cost(cfg, calib)
            if (cost.dsp > share * device.dsp or cost.lut > share * device.lut
                    or cost.ff > share * device.ff):
                continue
            try:
                return plan_config(model, target, cfg, cap, calib)
            except HccrError as exc:
                error = error or exc
    raise HccrError(f"no layer-sequential engine on {target.name} runs {model.name}: "
                    + (str(error) if error else f"none fits {device.name}"))
