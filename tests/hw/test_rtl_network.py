"""Generated network tops: conv -> maxpool -> conv -> dense, bit-exact vs golden with
backpressure, generated files' headers and description, lint of the generated top."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hw_helpers import NetBuilder, check_network_cycles
from ir_factory import random_batch, spec

from hw.gen.engines import Folding, FoldingError
from hw.gen.network import GENERATOR_VERSION, generate
from quant import golden, ir
from quant.compare import first_mismatch
from sim import runner
from sim.network import simulate_network

pytestmark = pytest.mark.rtl


def small_net(rng: np.random.Generator, out_dtype: str = "int8") -> ir.Model:
    """conv 3x3 (relu) -> maxpool 2x2 -> conv 3x1 stride 2 -> reshape -> dense, uint8 input."""
    net = NetBuilder(rng, spec("image", (10, 10, 1), "uint8", 0, 1 / 255))
    layer = net.layer
    layer("conv2d", "conv1", ["image"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
          cout=4, relu=True, out_dtype="int8", out_zero_point=-128)
    layer("maxpool", "pool1", ["conv1"], kernel=(2, 2), stride=(2, 2), padding=(0, 0, 0, 0))
    layer("conv2d", "conv2", ["pool1"], kernel=(3, 1), stride=(2, 2), padding=(1, 1, 0, 0),
          cout=6, relu=False, out_dtype="uint8", out_zero_point=100)
    layer("reshape", "flat", ["conv2"], shape=(1, 1, 3 * 3 * 6))
    layer("dense", "fc", ["flat"], cout=5, relu=False, out_dtype=out_dtype)
    return net.model("small", "fc")


FOLDING = {"conv1": Folding(2, 1), "pool1": Folding(1, 2), "conv2": Folding(3, 2),
           "fc": Folding(1, 6)}


@pytest.mark.slow
@pytest.mark.parametrize(("src", "sink"), [("none", "none"), ("random", "random"),
                                           ("1110", "random")])
def test_network_bit_exact(src: str, sink: str, rng, seed, tmp_path, build_root) -> None:
    model = small_net(np.random.default_rng(6))  # one network (one build) for every case
    net = generate(model, tmp_path / "rtl", FOLDING)
    x = random_batch(model, rng, 6)["image"]
    want = golden.run(model, x)["fc"]
    out = simulate_network(net, x, tmp_path / "sim", src_pause=src, sink_pause=sink,
                           seed=seed, root=build_root)
    assert out.sim.passed, out.sim.message or out.error
    assert out.beats == [5] * len(x), "an image was lost, split or duplicated"
    problem = first_mismatch(want, out.frames, name="fc")
    assert problem is None, problem
    if src == sink == "none":
        check_network_cycles("network", net, out.intervals[-1], out.end_cycles[0])


def test_generated_files_have_headers_and_description(tmp_path) -> None:
    model = small_net(np.random.default_rng(6))
    net = generate(model, tmp_path, FOLDING)
    again = generate(model, tmp_path / "again", FOLDING)
    assert net.config_hash == again.config_hash
    other = generate(model, tmp_path / "other", {**FOLDING, "fc": Folding(5, 6)})
    assert other.config_hash != net.config_hash
    for path in net.files:
        if path.suffix in (".sv", ".mem"):
            first = path.read_text().splitlines()[0]
            assert GENERATOR_VERSION in first and net.config_hash in first, path
    desc = json.loads((tmp_path / "network.json").read_text())
    assert desc["config_hash"] == net.config_hash
    assert [layer["name"] for layer in desc["layers"]] == ["conv1", "pool1", "conv2", "fc"]
    assert desc["layers"][0]["folding"] == {"pe": 2, "simd": 1}
    assert sorted(desc["files"]) == sorted(p.name for p in net.files)
    assert desc["pipeline_cycles"] == net.pipeline_cycles


def test_generated_top_is_lint_clean(tmp_path) -> None:
    net = generate(small_net(np.random.default_rng(6)), tmp_path, FOLDING)
    done = runner.lint([net.top_file, *runner.rtl_sources(*net.modules)], top=net.top)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_generator_refuses_what_it_cannot_build(tmp_path) -> None:
    model = small_net(np.random.default_rng(6))
    with pytest.raises(FoldingError, match="folding names no layer: conv9"):
        generate(model, tmp_path, {"conv9": Folding()})
    with pytest.raises(FoldingError, match="conv1: PE=3 does not divide OC=4"):
        generate(model, tmp_path, {"conv1": Folding(3, 1)})
