"""hls4ml C-simulation vs golden, bit for bit on every layer of multi-layer graphs."""

from __future__ import annotations

import re

import pytest
from csim_check import assert_bit_exact
from hls_graphs import branches, conv_chain, pools, prelus, residual
from ir_factory import random_batch

from hw.hls import project as project_module
from hw.hls.compare import compare_hls
from hw.hls.config import HlsConfig
from hw.hls.fixed import Fixed
from hw.hls.project import HlsBuildError, write_project
from quant import golden

pytestmark = [pytest.mark.hls, pytest.mark.slow]

IMAGES = 300


def _check(model, rng, tmp_path):
    return assert_bit_exact(model, rng, tmp_path, IMAGES)


@pytest.mark.parametrize(("power_of_two", "in_dtype", "in_zero_point"), [
    (True, "uint8", 0), (False, "int8", -3), (False, "uint8", 200)])
def test_conv_chain_is_bit_exact(rng, tmp_path, power_of_two, in_dtype, in_zero_point):
    _check(conv_chain(rng, power_of_two, in_dtype, in_zero_point), rng, tmp_path)


def test_branches_concat_padded_pool_two_outputs(rng, tmp_path):
    model = branches(rng)
    project = _check(model, rng, tmp_path)
    assert project.lowered.forms["cat"].offset == 0  # the padded pool needs unsigned storage
    assert [layer["class_name"] for layer in project.lowered.layers].count("Concatenate") == 2


def test_pools_gwap_requant_channel_mean(rng, tmp_path):
    project = _check(pools(rng), rng, tmp_path)
    assert {name for name in project.lowered.fixed} == {"ap", "rq", "gw", "gap"}


def test_residual_adds(rng, tmp_path):
    project = _check(residual(rng), rng, tmp_path)
    assert [layer["class_name"] for layer in project.lowered.layers].count("Merge") == 2


def test_prelu(rng, tmp_path):
    project = _check(prelus(rng), rng, tmp_path)
    assert [layer["class_name"] for layer in project.lowered.layers].count("PReLU") == 2


def test_wrong_precision_is_caught_and_named(rng, tmp_path, monkeypatch):
    """Rounding c13 by truncation instead of half up: the compare must fail on c13."""
    model = conv_chain(rng, True, "uint8", 0)
    lower = project_module.lower

    def lower_wrong(m):
        lowered = lower(m)
        lowered.precision["c13"]["result"] = str(Fixed(8, 8, rounding="TRN", saturation="SAT"))
        return lowered

    monkeypatch.setattr(project_module, "lower", lower_wrong)
    x = random_batch(model, rng, 100)["x"]
    project = write_project(model, tmp_path / "prj", HlsConfig(), {"x": x[:2]})
    project.compile()
    result = compare_hls(project, x)
    project.clean()
    assert result.bit_exact < 100
    assert result.first_mismatch is not None and result.first_mismatch.layer == "c13"
    m = result.first_mismatch
    assert m.golden == golden.run(model, x[m.image : m.image + 1])["c13"][0][m.index]
    assert m.got != m.golden


def test_an_abort_inside_the_cpp_names_the_layer(rng, tmp_path):
    """An illegal ReuseFactor written into c13's config trips hls4ml's assert in C-sim: the
    forked simulation dies, Python gets one line naming the layer and keeps running."""
    model = conv_chain(rng, True, "uint8", 0)
    x = random_batch(model, rng, 4)["x"]
    project = write_project(model, tmp_path / "prj", HlsConfig(), {"x": x[:2]})
    index = next(layer.index for layer in project.graph.get_layers() if layer.name == "c13")
    header = project.out / "firmware" / "parameters.h"
    text = header.read_text()
    for struct in (f"config{index}", f"config{index}_mult"):
        text, n = re.subn(rf"(struct {struct} :.*?reuse_factor = )1;", r"\g<1>7;", text,
                          count=1, flags=re.S)
        assert n == 1, struct
    header.write_text(text)
    project.graph._compile()  # compile() would rewrite parameters.h
    with pytest.raises(HlsBuildError, match=r"^C-simulation aborted \(exit -6\) in layer c13 "
                       r"\(IR op c13\): .*The current Reuse Factor is not allowed"):
        project.trace({"x": x})
    project.clean()
