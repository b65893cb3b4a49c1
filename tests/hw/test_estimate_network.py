"""The dataflow estimate of a whole network: a folded engine's parameter ROM image is the
generator's (so constant bit columns are dropped as Yosys drops them), and Yosys
`synth_xilinx` of a whole generated top has the estimate's DSPs and BRAMs exactly, LUTs and
FFs within the calibration's ±15 %."""

from __future__ import annotations

import numpy as np
import pytest
from test_rtl_network import small_net

from hw.devices import device
from hw.estimate import calibration
from hw.estimate.network import base_plan, estimate, fold_spec
from hw.gen.engines import Folding, engine_for
from hw.gen.network import generate
from hw.synth import synth_xilinx

# conv1 has PE = OC: one parameter word holds every channel, all its columns constant
FOLDING = {"conv1": Folding(4, 1), "pool1": Folding(1, 2), "conv2": Folding(3, 2, True),
           "fc": Folding(5, 6, True)}


def test_a_folded_engine_keeps_the_generators_parameter_image() -> None:
    model = small_net(np.random.default_rng(4))
    ops = {op.name: op for op in model.ops}
    for eng in base_plan(model).engines:
        if eng.module not in ("conv2d", "dense"):
            continue
        want = engine_for(ops[eng.name], model, FOLDING[eng.name]).mems
        got = fold_spec(eng, FOLDING[eng.name]).mems
        pfile = f"{eng.name}_p.mem"
        assert list(got) == [pfile] and got[pfile] == want[pfile]


@pytest.mark.synth
@pytest.mark.slow
def test_whole_network_estimate_matches_yosys(tmp_path) -> None:
    model = small_net(np.random.default_rng(4))
    net = generate(model, tmp_path, FOLDING)
    got = synth_xilinx(net.top, [*net.modules, net.top_file], {}, tmp_path)
    est = estimate(model, device("xc7z020"), FOLDING, calibration.load()).total
    assert (got.cells.get("RAMB18E1", 0), got.cells.get("RAMB36E1", 0)) == (est.ramb18,
                                                                          est.ramb36)
    assert got.dsps == est.dsp
    ff = sum(n for c, n in got.cells.items() if c.startswith("FD"))
    assert est.lut == pytest.approx(got.luts, rel=0.15)
    assert est.ff == pytest.approx(ff, rel=0.15)
