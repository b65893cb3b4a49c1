"""Yosys `synth_xilinx -family xc7` of the whole layer-sequential engine at a small
configuration no calibration point has: the DSP48E1s and block RAMs the estimator counts
(hw/estimate/sequential.py) are the ones Yosys maps. Its own file, so that pytest-xdist runs
it beside the engine's simulations."""

from __future__ import annotations

import pytest

from hw.estimate.sequential import engine_cost, load_calibration
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.outdir import engine_generics
from hw.synth import synth_xilinx
from tests.hw.seq.test_seq_engine import sources

# PE 2 × SIMD 4: the vector unit's 256 rows per lane are block RAM (its parameter RAM twice)
CONFIG = EngineConfig(pe=2, simd=4, act_bytes=16384, tile_bytes=4096)


@pytest.mark.synth
@pytest.mark.slow
def test_yosys_counts_the_engines_dsps_and_block_rams_as_estimated(tmp_path) -> None:
    """DSP48E1 and block RAMs exactly as the estimator counts them. (Its LUT fit, calibrated
    on board-sized buffers whose block-RAM output multiplexers it has no term for, is not
    checked here: tests/test_estimate_seq.py checks it on those.)"""
    src = [p for p in sources(tmp_path / "regs") if p.suffix != ".vlt"]
    result = synth_xilinx("seq_engine", src, engine_generics(CONFIG), tmp_path / "synth")
    want = engine_cost(CONFIG, load_calibration())
    got = {"dsp": result.dsps, "ramb36": result.cells.get("RAMB36E1", 0),
           "ramb18": result.cells.get("RAMB18E1", 0)}
    print(f"seq_engine: {result.luts} LUT (fit {want.lut:,.0f}), {got}")
    assert got == {"dsp": want.dsp, "ramb36": want.ramb36, "ramb18": want.ramb18}
