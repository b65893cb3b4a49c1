"""Full-size seed networks (3755 classes) in hls4ml C-simulation, bit-exact against golden on
every traced tensor of 50 images (opt-in: `-m full`; minutes to tens of minutes each)."""

from __future__ import annotations

import pytest

from bench.bench_hls import seed_csim

pytestmark = [pytest.mark.hls, pytest.mark.full]

IMAGES = 50
SEEDS = [("sqnxt", 64), ("sqnxt-ccbam", 64), ("fire-gwap-cascade", 64), ("cnn9", 96),
         ("eca-resnet18", 64)]


@pytest.mark.parametrize(("arch", "size"), SEEDS, ids=[a for a, _ in SEEDS])
def test_seed_network_is_bit_exact(tmp_path, arch, size):
    row = seed_csim(arch, size, 3755, IMAGES, tmp_path / "prj")
    assert row["bit_exact"] == IMAGES, row["summary"]
    assert row["tensors"] >= row["ir_ops"] // 2, row
