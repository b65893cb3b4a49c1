"""Lowering without compiling: exact types, storage forms, refused ops, build settings."""

from __future__ import annotations

import dataclasses

import pytest
from hls_graphs import GraphBuilder, conv_chain
from ir_factory import single_op, spec

from hw.hls.config import ConfigError, HlsConfig, legal_reuse_factors, load, resolve
from hw.hls.fixed import Fixed, dyadic, integer_range, saturating
from hw.hls.lower import Unsupported, lower, lowerings
from quant import golden

pytestmark = pytest.mark.hls


def test_fixed_types():
    assert str(saturating(0, 255)) == "ufixed<8,8,RND,SAT>"
    assert str(saturating(-128, 127)) == "fixed<8,8,RND,SAT>"
    assert str(saturating(0, 127)) == "ufixed<7,7,RND,SAT>"
    assert saturating(-50, 205) is None and saturating(5, 127) is None
    assert str(integer_range(-128, 127)) == "fixed<8,8>"
    assert str(integer_range(-3, 252)) == "fixed<9,9>"
    assert str(integer_range(0, 255)) == "ufixed<8,8>"
    # 127·2^-6 and -127·2^-8 need 8 fractional and 2 integer bits (incl. sign); -128·2^-8 is
    # -2^-1 and needs only one fractional bit.
    assert dyadic([(127, 6), (-127, 8)]) == Fixed(10, 2)
    assert dyadic([(127, 6), (-128, 8)]) == Fixed(8, 2)
    assert dyadic([(-128, 0)]) == Fixed(8, 8)
    assert dyadic([(3 << 20, 30), (0, 40)]) == Fixed(3, -7)
    with pytest.raises(ValueError, match="54 significant bits"):
        dyadic([(2**53 + 1, 0)])


def test_every_ir_op_has_a_lowering():
    assert set(lowerings()) == set(golden.OP_FUNCTIONS)


def test_prelu_needs_a_power_of_two_positive_multiplier(rng):
    model = single_op("prelu", rng, shape=(2, 2, 2))
    model = dataclasses.replace(model, ops=(dataclasses.replace(model.ops[0],
                                                                multiplier_pos=3),))
    with pytest.raises(Unsupported, match="^y: multiplier_pos 3 is not a power of two"):
        lower(model)


def test_custom_layers_for_ops_hls4ml_lacks(rng):
    """Channel max, sigmoid, mul and reshape use the custom layers; the sigmoid's table is the
    IR's own LUT, shifted into its output's storage."""
    kinds = {"reduce_channels": "HccrChannelMax", "sigmoid": "HccrLut", "mul": "HccrMul",
             "reshape": "HccrRepack"}
    for kind, cls in kinds.items():
        params = {"mode": "max"} if kind == "reduce_channels" else {}
        model = single_op(kind, rng, shape=(3, 4, 2), **params)
        lowered = lower(model)
        layer = lowered.layers[-1]
        assert layer["class_name"] == cls, kind
        if kind == "sigmoid":
            table = model.ops[0].lut.astype(int) - lowered.forms["y"].offset
            assert layer["table_data"].tolist() == table.tolist()
        if kind == "mul":
            assert lowered.depths == {layer["name"]: 12}


def test_relu_with_an_inexact_clip_range_is_refused(rng):
    model = single_op("conv2d", rng, relu=True, out_dtype="int8", out_zero_point=5)
    with pytest.raises(Unsupported, match=r"^y: relu with output zero point 5 clips to \[5, 127\]"):
        lower(model)


def test_padding_reads_a_recentred_copy(rng):
    """c1 cannot store q - 9 (its clip range is the whole int8): c2 reads a re-centred copy."""
    g = GraphBuilder(rng, spec("x", (4, 4, 2), "uint8", 0), power_of_two=True)
    g.layer("conv2d", "c1", ["x"], kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), cout=2,
            relu=False, out_dtype="int8", out_zero_point=9)
    g.layer("conv2d", "c2", ["c1"], kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1), cout=2,
            relu=False, out_dtype="int8", out_zero_point=0)
    lowered = lower(g.model("pad", ["c2"]))
    assert lowered.forms["c1"].offset == 0
    layers = {layer["name"]: layer for layer in lowered.layers}
    assert layers["c2"]["inputs"] == ["c1_recentred"]
    assert layers["c1_recentred"]["bias_data"].tolist() == [-9.0, -9.0]
    assert lowered.precision["c1_recentred"]["result"] == "fixed<9,9>"


def test_only_overlapping_pools_use_the_custom_pool(rng):
    for stride, cls in [((1, 1), "HccrMaxPool"), ((2, 2), "MaxPooling2D")]:
        model = single_op("maxpool", rng, shape=(4, 4, 1), kernel=(2, 2), stride=stride,
                          padding=(0, 0, 0, 0))
        assert lower(model).layers[-1]["class_name"] == cls


def test_forms_centre_padded_inputs_and_keep_zero_points_in_the_bias(rng):
    lowered = lower(conv_chain(rng, True, "int8", -3))
    forms = lowered.forms
    assert forms["x"].offset == 0 and str(forms["x"].type) == "fixed<8,8>"
    assert forms["c31"].offset == 0  # read by the padded c13: stored centred (zero point 0)
    assert forms["c11"].offset == -128  # read by the padded c33s2 (zero point -128)
    assert str(forms["c11"].type) == "ufixed<8,8>"
    assert forms["fc"].offset == 0  # zero point -50 lives in fc's bias
    assert lowered.precision["fc"]["result"] == "fixed<8,8,RND,SAT>"
    assert lowered.precision["c31"]["result"] == "ufixed<8,8,RND,SAT>"
    assert [layer["class_name"] for layer in lowered.layers] == [
        "InputLayer", "Conv2D", "Conv2D", "Conv2D", "Conv2D", "MaxPooling2D", "Conv2D"]


def test_accumulators_keep_every_fractional_bit(rng):
    lowered = lower(conv_chain(rng, False, "uint8", 200))
    for name, types in lowered.precision.items():
        if "weight" in types:
            acc = _parse(types["accum"])
            assert acc.frac >= max(_parse(types["weight"]).frac, _parse(types["bias"]).frac), name


def _parse(text: str) -> Fixed:
    width, integer = text.split("<")[1].rstrip(">").split(",")[:2]
    return Fixed(int(width), int(integer))


def test_reuse_factors_are_legal_and_validated(rng, tmp_path):
    model = conv_chain(rng, True, "uint8", 0)
    lowered = lower(model)
    settings = resolve(HlsConfig(max_multipliers=8), lowered)
    for name, s in settings.items():
        n_in, n_out = lowered.macs[name]
        assert s.reuse_factor in legal_reuse_factors(n_in, n_out)
        assert s.strategy == "Resource"
    with pytest.raises(ConfigError, match=r"^c13: ReuseFactor 7 is not legal for 12 inputs × 5"):
        resolve(HlsConfig(layers={"c13": {"reuse_factor": 7}}), lowered)
    with pytest.raises(ConfigError, match="settings name nope, not configurable ops"):
        resolve(HlsConfig(layers={"nope": {"reuse_factor": 1}}), lowered)
    path = tmp_path / "hls.yaml"
    path.write_text("strategy: Latency\nlayers:\n  c13: {reuse_factor: 6}\n"
                    "  fc: {reuse_factor: 2}\n")
    config = load(path, layers={"fc": {"reuse_factor": 4}}, clock_ns=4.0)
    settings = {lowered.ops[k]: v for k, v in resolve(config, lowered).items()}
    assert settings["c13"].reuse_factor == 6 and settings["fc"].reuse_factor == 4
    assert settings["c31"].strategy == "Latency" and config.clock_ns == 4.0
    path.write_text("reuse_factr: 2\n")
    with pytest.raises(ConfigError, match="expected a mapping with keys from"):
        load(path)
    with pytest.raises(ConfigError, match="strategy must be one of Resource, Latency"):
        dataclasses.replace(HlsConfig(), strategy="Fast")
