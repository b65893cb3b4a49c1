"""AXI-Stream FIFO: data, tlast and beat counts survive every pause pattern (also the
smoke test of cocotbext-axi on our cocotb pin)."""

from __future__ import annotations

import numpy as np
import pytest
from hw_helpers import PAUSE_PAIRS

from quant.compare import first_mismatch
from sim import runner
from sim.stream import Port, run_stream

pytestmark = pytest.mark.rtl


@pytest.mark.parametrize("width", [8, 32])
@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
def test_fifo_passes_frames(width: int, src: str, sink: str, rng: np.random.Generator,
                            seed: int, tmp_path, build_root) -> None:
    built = runner.build("fifo", ["fifo"], {"DATA_W": width, "DEPTH": 4}, root=build_root)
    lo, hi = -(2 ** (width - 1)), 2 ** (width - 1) - 1
    x = rng.integers(lo, hi, (3, 37), endpoint=True)
    port = Port("s_axis", width, True)
    out = run_stream(built, tmp_path, x, port, Port("m_axis", width, True), 37,
                     src_pause=src, sink_pause=sink, seed=seed, timeout_cycles=2000)
    assert out.sim.passed, out.sim.message
    assert out.beats == [37, 37, 37]
    assert first_mismatch(x, out.frames) is None
    if src == sink == "none":
        assert out.intervals == [37.0, 37.0]  # one beat per cycle, no bubble between frames


@pytest.mark.parametrize("depth", [1, 3, 12])
def test_fifo_rejects_bad_depth(depth: int, build_root) -> None:
    with pytest.raises(runner.SimError, match="power of two"):
        runner.build("fifo", ["fifo"], {"DEPTH": depth}, root=build_root)
