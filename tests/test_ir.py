"""quant/ir.py: the JSON + npz contract, round trips, and one test per kind of validation error."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from ir_factory import all_ops_graph, single_op, spec

from quant import ir

# The op table of DESIGN.md ("Integer IR (the contract), version 1"): JSON fields, npz arrays.
DESIGN_TABLE = {
    "conv2d": ({"kernel", "stride", "padding", "relu", "weight_bits"},
               {"weight", "bias", "multiplier", "shift"}),
    "dense": ({"relu", "weight_bits"}, {"weight", "bias", "multiplier", "shift"}),
    "maxpool": ({"kernel", "stride", "padding"}, set()),
    "avgpool": ({"kernel", "stride", "multiplier", "shift"}, set()),
    "global_avgpool": ({"multiplier", "shift"}, set()),
    "gwap": (set(), {"weight", "multiplier", "shift"}),
    "reduce_channels": ({"mode", "multiplier", "shift"}, set()),
    "add": ({"multipliers", "shift"}, set()),
    "mul": ({"multiplier", "shift"}, set()),
    "concat": (set(), set()),
    "requant": ({"multiplier", "shift"}, set()),
    "sigmoid": (set(), {"lut"}),
    "prelu": ({"multiplier_pos", "shift"}, {"multiplier_neg"}),
    "reshape": ({"shape"}, set()),
}


def _saved(tmp_path: Path, model: ir.Model | None = None) -> Path:
    return ir.save(model or all_ops_graph(np.random.default_rng(0)), tmp_path / "ir")


def _edit_json(directory: Path, edit) -> None:
    path = directory / "model.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _op_entry(doc: dict, name: str) -> dict:
    return next(e for e in doc["ops"] if e["name"] == name)


def _load_error(directory: Path) -> str:
    with pytest.raises(ir.IRError) as info:
        ir.load(directory)
    message = str(info.value)
    assert "\n" not in message
    return message


def _problems(model: ir.Model) -> str:
    problems = ir.validate(model)
    assert problems, "expected a validation problem"
    with pytest.raises(ir.IRError):
        ir.check(model)
    return "; ".join(problems)


def _replace_op(model: ir.Model, index: int = 0, **changes) -> ir.Model:
    ops = list(model.ops)
    ops[index] = dataclasses.replace(ops[index], **changes)
    return dataclasses.replace(model, ops=tuple(ops))


def _replace_tensor(model: ir.Model, name: str, **changes) -> ir.Model:
    tensors = dict(model.tensors)
    tensors[name] = dataclasses.replace(tensors[name], **changes)
    return dataclasses.replace(model, tensors=tensors)


def _conv_model(seed: int = 0, **params) -> ir.Model:
    """A valid single conv2d model named 'conv3' (op) writing 'y'."""
    model = single_op("conv2d", np.random.default_rng(seed), **params)
    return _replace_op(model, name="conv3")


# ----------------------------------------------------------------------------- round trips


def test_design_table_matches_op_classes() -> None:
    assert set(ir.OPS) == set(DESIGN_TABLE)
    for kind, (json_fields, arrays) in DESIGN_TABLE.items():
        cls = ir.OPS[kind]
        assert set(ir.op_fields(cls)) == json_fields | arrays, kind
        assert set(cls.ARRAYS) == arrays, kind


def test_all_ops_graph_round_trip(tmp_path: Path) -> None:
    model = all_ops_graph(np.random.default_rng(3))
    assert ir.load(_saved(tmp_path, model)) == model


@pytest.mark.parametrize("kind", sorted(ir.OPS))
def test_single_op_round_trip(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    for case in range(5):
        model = single_op(kind, rng)
        loaded = ir.load(ir.save(model, tmp_path / f"{case}"))
        assert loaded == model
        for a, b in zip(loaded.ops, model.ops, strict=True):
            for name in a.ARRAYS:
                assert getattr(a, name).dtype == getattr(b, name).dtype


def test_json_holds_only_contract_keys(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    doc = json.loads((directory / "model.json").read_text())
    assert set(doc) == {"ir_version", "name", "tensors", "ops", "inputs", "outputs"}
    assert doc["ir_version"] == 1
    for t in doc["tensors"].values():
        assert set(t) == {"shape", "dtype", "scale", "zero_point"}
    with np.load(directory / "weights.npz") as npz:
        stored = set(npz.files)
    expected_arrays = set()
    for entry in doc["ops"]:
        json_fields, arrays = DESIGN_TABLE[entry["op"]]
        assert set(entry) - {"name", "op", "inputs", "output"} <= json_fields, entry["name"]
        expected_arrays |= {f"{entry['name']}.{a}" for a in arrays}
    assert stored == expected_arrays


@pytest.mark.parametrize("kind", sorted(ir.OPS))
def test_random_models_are_valid(kind: str) -> None:
    rng = np.random.default_rng(7 + len(kind))
    for _ in range(20):
        assert ir.validate(single_op(kind, rng)) == []


def test_save_refuses_an_invalid_model(tmp_path: Path) -> None:
    model = _replace_tensor(_conv_model(), "y", zero_point=1000)
    with pytest.raises(ir.IRError, match="tensor 'y': zero_point 1000"):
        ir.save(model, tmp_path / "ir")
    assert not (tmp_path / "ir").exists()


def test_groups_one_is_accepted(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: _op_entry(doc, "conv1").update(groups=1))
    ir.load(directory)


# ------------------------------------------------------------------- malformed folders


def test_unknown_op(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: _op_entry(doc, "conv1").update(name="conv3", op="depthwise"))
    assert "conv3: op 'depthwise' unsupported" in _load_error(directory)


def test_groups_other_than_one(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: _op_entry(doc, "conv1").update(groups=16))
    assert "conv1: groups=16 unsupported (standard conv only)" in _load_error(directory)


def test_private_extensions_are_rejected(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: _op_entry(doc, "conv1").update(pe=4))
    assert "conv1: unknown field 'pe' (IR v1 has no private extensions)" in _load_error(directory)
    directory = _saved(tmp_path / "b")
    _edit_json(directory, lambda doc: doc.update(folding={}))
    assert "unknown key 'folding'" in _load_error(directory)


def test_unexpected_array(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    with np.load(directory / "weights.npz") as npz:
        arrays = dict(npz)
    np.savez(directory / "weights.npz", **arrays, **{"conv1.scale": np.ones(4)})
    assert "weights.npz: unexpected array 'conv1.scale'" in _load_error(directory)


def test_missing_array_names_file_and_layer(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    with np.load(directory / "weights.npz") as npz:
        arrays = {k: v for k, v in npz.items() if k != "conv1.bias"}
    np.savez(directory / "weights.npz", **arrays)
    message = _load_error(directory)
    assert message.startswith(str(directory / "model.json"))
    assert "conv1: array 'conv1.bias' missing from weights.npz" in message


def test_missing_field_and_wrong_type(tmp_path: Path) -> None:
    directory = _saved(tmp_path)

    def edit(doc: dict) -> None:
        del _op_entry(doc, "conv1")["stride"]
        _op_entry(doc, "fc")["relu"] = 1

    _edit_json(directory, edit)
    message = _load_error(directory)
    assert "conv1: missing field 'stride'" in message
    assert "fc: field 'relu' must be bool, got 1" in message


@pytest.mark.parametrize("missing", ["model.json", "weights.npz"])
def test_missing_file(tmp_path: Path, missing: str) -> None:
    directory = _saved(tmp_path)
    (directory / missing).unlink()
    assert _load_error(directory) == f"{directory / missing}: file not found"


def test_bad_json(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    path = directory / "model.json"
    path.write_text(path.read_text()[:50])
    assert _load_error(directory).startswith(f"{path}: bad JSON at line")


def test_bad_npz(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    (directory / "weights.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert _load_error(directory).startswith(f"{directory / 'weights.npz'}: not a readable .npz")
    np.save(directory / "weights.npy", np.zeros(3))
    (directory / "weights.npy").rename(directory / "weights.npz")
    assert "not an .npz archive" in _load_error(directory)


def test_wrong_ir_version(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: doc.update(ir_version=3))
    assert "ir_version 3 unsupported" in _load_error(directory)


def test_load_runs_validate(tmp_path: Path) -> None:
    directory = _saved(tmp_path)
    _edit_json(directory, lambda doc: doc["tensors"]["conv1"].update(shape=[6, 6, 5]))
    message = _load_error(directory)
    assert message.startswith(f"{directory}: ")
    assert "conv1: output shape [6, 6, 4] != [6, 6, 5] declared for 'conv1'" in message


# ------------------------------------------------------------------------ validate: tensors


@pytest.mark.parametrize(("changes", "expected"), [
    ({"dtype": "int16"}, "tensor 'y': dtype 'int16' is not one of int8, uint8, int32"),
    ({"dtype": "uint8", "zero_point": -1}, "tensor 'y': zero_point -1 outside uint8 [0, 255]"),
    ({"scale": 0.0}, "tensor 'y': scale 0.0 is not a positive finite number"),
    ({"shape": (2, 0, 3)}, "tensor 'y': shape [2, 0, 3] is not [H, W, C]"),
])
def test_bad_tensor(changes: dict, expected: str) -> None:
    assert expected in _problems(_replace_tensor(_conv_model(), "y", **changes))


# -------------------------------------------------------------------------- validate: graph


def _chain() -> ir.Model:
    """x -> requant a -> requant b, all int8."""
    t = {n: spec(n, (2, 2, 1), "int8", 0) for n in ("x", "a", "b")}
    ops = (ir.Requant(name="rq_a", inputs=("x",), output="a", multiplier=1, shift=0),
           ir.Requant(name="rq_b", inputs=("a",), output="b", multiplier=1, shift=0))
    return ir.Model("chain", t, ops, ("x",), ("b",))


def test_chain_is_valid() -> None:
    assert ir.validate(_chain()) == []


def test_tensor_produced_twice() -> None:
    model = _replace_op(_chain(), 1, inputs=("x",), output="a")
    message = _problems(model)
    assert "rq_b: tensor 'a' is already produced by rq_a" in message
    assert "tensor 'b': never produced" in message


def test_graph_input_overwritten() -> None:
    model = _replace_op(_chain(), 1, output="x")
    assert "rq_b: tensor 'x' is already produced by the graph input" in _problems(model)


def test_ops_out_of_topological_order() -> None:
    model = _chain()
    model = dataclasses.replace(model, ops=model.ops[::-1])
    assert "rq_b: input 'a' is used before it is produced (ops not in topological order)" in (
        _problems(model))


def test_undeclared_and_unproduced_tensors() -> None:
    model = _replace_op(_chain(), 1, inputs=("ghost",))
    assert "rq_b: input 'ghost' is not a declared tensor" in _problems(model)
    model = dataclasses.replace(_chain(), outputs=("nowhere",))
    assert "graph output 'nowhere' is not a declared tensor" in _problems(model)
    model = dataclasses.replace(_chain(), tensors={**_chain().tensors,
                                                   "z": spec("z", (1, 1, 1), "int8", 0)})
    model = _replace_op(model, 1, inputs=("z",))
    assert "rq_b: input 'z' is never produced" in _problems(model)


def test_duplicate_op_name() -> None:
    assert "rq_a: duplicate op name" in _problems(_replace_op(_chain(), 1, name="rq_a"))


def test_wrong_arity() -> None:
    model = single_op("add", np.random.default_rng(0))
    model = _replace_op(model, inputs=("x",))
    assert "y: takes 2 input(s), got 1" in _problems(model)


# ---------------------------------------------------------------------- validate: op fields


def test_conv_weight_dtype() -> None:
    model = _conv_model()
    w = model.ops[0].weight.astype(np.int16)
    assert "conv3: weight must be an array of int8, got int16" in _problems(
        _replace_op(model, weight=w))


def test_bias_and_multiplier_dtypes() -> None:
    op = _conv_model().ops[0]
    model = _replace_op(_conv_model(), bias=op.bias.astype(np.int64),
                        multiplier=op.multiplier.tolist())
    message = _problems(model)
    assert "conv3: bias must be an array of int32, got int64" in message
    assert "conv3: multiplier must be an array of int32, got list" in message


def test_dense_weight_layout() -> None:
    model = single_op("dense", np.random.default_rng(0), shape=(2, 2, 3), cout=4)
    model = _replace_op(model, name="fc", weight=model.ops[0].weight.T.copy())
    assert "fc: weight has 4 inputs, input 'x' has 12" in _problems(model)


def test_conv_weight_shape() -> None:
    model = _conv_model(shape=(4, 4, 3), kernel=(3, 3), cout=2)
    op = model.ops[0]
    assert "conv3: weight has cin=2, input 'x' has C=3" in _problems(
        _replace_op(model, weight=op.weight[:, :, :2].copy()))
    assert "conv3: kernel [3, 1] != weight's [3, 3]" in _problems(_replace_op(model, kernel=(3, 1)))
    assert "conv3: bias has shape [1], expected [2]" in _problems(
        _replace_op(model, bias=op.bias[:1].copy()))


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("multiplier", 0, "multiplier outside [1, 32768]: [0, 0]"),
    ("multiplier", 2**15 + 1, "multiplier outside [1, 32768]: [32769, 32769]"),
    ("shift", 47, "shift outside [0, 46]: [47, 47]"),
    ("shift", -1, "shift outside [0, 46]: [-1, -1]"),
])
def test_multiplier_and_shift_ranges(field: str, value: int, expected: str) -> None:
    model = _conv_model(cout=2)
    assert f"conv3: {expected}" in _problems(
        _replace_op(model, **{field: np.full(2, value, np.int32)}))


def test_scalar_and_list_field_ranges() -> None:
    model = single_op("add", np.random.default_rng(0))
    assert "y: multipliers outside [1, 32768]: [0, 5]" in _problems(
        _replace_op(model, multipliers=(0, 5)))
    assert "y: multipliers must have 2 values, got [1]" in _problems(
        _replace_op(model, multipliers=(1,)))
    model = _conv_model()
    assert "conv3: stride outside [1, inf]: [0, 1]" in _problems(_replace_op(model, stride=(0, 1)))
    assert "conv3: padding must have 4 values" in _problems(_replace_op(model, padding=(1, 1)))


@pytest.mark.parametrize("bits", [1, 9])
def test_weight_bits_range(bits: int) -> None:
    assert f"conv3: weight_bits outside [2, 8]: {bits}" in _problems(
        _replace_op(_conv_model(), weight_bits=bits))


def test_weight_values_respect_weight_bits() -> None:
    model = _conv_model(weight_bits=4)
    assert ir.validate(model) == []
    w = model.ops[0].weight.copy()
    w.flat[0] = 8
    assert "conv3: weight values" in _problems(_replace_op(model, weight=w))
    assert "exceed the signed 4-bit range [-8, 7]" in _problems(_replace_op(model, weight=w))


def test_shape_mismatch() -> None:
    model = _conv_model(shape=(5, 5, 1), kernel=(3, 3), stride=(2, 2), padding=(1, 1, 1, 1),
                        cout=2)
    # (5 + 1 + 1 - 3) // 2 + 1 = 3
    model = _replace_tensor(model, "y", shape=(2, 3, 2))
    assert "conv3: output shape [3, 3, 2] != [2, 3, 2] declared for 'y'" in _problems(model)


def test_kernel_larger_than_padded_input() -> None:
    model = _conv_model(shape=(1, 1, 1), kernel=(3, 3), padding=(1, 1, 1, 1))
    assert "conv3: kernel 3x3 larger than the padded input 2x3" in _problems(
        _replace_op(model, padding=(0, 1, 1, 1)))


def test_maxpool_rules() -> None:
    model = single_op("maxpool", np.random.default_rng(0), shape=(4, 4, 2), kernel=(2, 2),
                      stride=(2, 2), padding=(0, 0, 0, 0))
    assert "y: padding [2, 0, 0, 0] must be smaller than kernel [2, 2]" in _problems(
        _replace_op(model, padding=(2, 0, 0, 0)))
    zp = model.tensors["x"].zero_point
    moved = _replace_tensor(model, "y", zero_point=zp + 1 if zp < 100 else zp - 1)
    assert "y: tensor 'y' must share dtype, scale and zero point with 'x'" in _problems(moved)


def test_mul_broadcast_shape() -> None:
    model = single_op("mul", np.random.default_rng(0), shape=(3, 4, 2), shape2=(1, 1, 2))
    model = _replace_tensor(model, "x2", shape=(3, 1, 2))
    assert "y: second input 'x2' has shape [3, 1, 2], expected [1, 1, 2] or [3, 4, 1]" in (
        _problems(model))


def test_add_shapes() -> None:
    model = _replace_tensor(single_op("add", np.random.default_rng(0), shape=(2, 2, 2)), "x2",
                            shape=(2, 2, 1))
    assert "y: inputs have different shapes [2, 2, 2] and [2, 2, 1]" in _problems(model)


def test_concat_quantisation() -> None:
    model = single_op("concat", np.random.default_rng(0), channels=(1, 2))
    assert "y: tensor 'x2' must share dtype, scale and zero point with 'x'" in _problems(
        _replace_tensor(model, "x2", scale=model.tensors["x"].scale * 2))


def test_sigmoid_rules() -> None:
    model = single_op("sigmoid", np.random.default_rng(0), out_dtype="uint8")
    lut = model.ops[0].lut.astype(np.int8)
    assert "y: lut is int8 but output 'y' is uint8" in _problems(_replace_op(model, lut=lut))
    assert "y: lut has shape [255], expected [256]" in _problems(
        _replace_op(model, lut=model.ops[0].lut[:255].copy()))
    wide = _replace_tensor(model, "x", dtype="int32", zero_point=0)
    assert "y: input 'x' is int32, a LUT needs int8 or uint8" in _problems(wide)


def test_reduce_channels_rules() -> None:
    model = single_op("reduce_channels", np.random.default_rng(0), mode="max")
    assert "y: mode max takes no multiplier or shift" in _problems(
        _replace_op(model, multiplier=1, shift=0))
    assert "y: mode 'min' is not mean or max" in _problems(_replace_op(model, mode="min"))
    model = single_op("reduce_channels", np.random.default_rng(0), mode="mean")
    assert "y: mode mean needs multiplier and shift" in _problems(_replace_op(model, shift=None))


def test_reshape_element_count() -> None:
    model = single_op("reshape", np.random.default_rng(0), shape=(2, 3, 4), to=(1, 1, 24))
    assert ir.validate(model) == []
    assert "y: shape [1, 1, 25] does not hold the 24 elements of 'x'" in _problems(
        _replace_tensor(_replace_op(model, shape=(1, 1, 25)), "y", shape=(1, 1, 25)))


def test_prelu_per_channel() -> None:
    model = single_op("prelu", np.random.default_rng(0), shape=(2, 2, 3))
    assert "y: multiplier_neg has shape [2], expected [3]" in _problems(
        _replace_op(model, multiplier_neg=np.ones(2, np.int32)))


# --------------------------------------------------------------------- validate: accumulators


def _dense_model(n_in: int, weight: np.ndarray, bias: int) -> ir.Model:
    """fc: uint8 input [1, 1, n_in] with zero point 0, so max|x - zx| = 255."""
    op = ir.Dense(name="fc", inputs=("x",), output="y", weight=weight,
                  bias=np.array([bias], np.int32), multiplier=np.array([1], np.int32),
                  shift=np.array([0], np.int32))
    tensors = {"x": spec("x", (1, 1, n_in), "uint8", 0), "y": spec("y", (1, 1, 1), "int32", 0)}
    return ir.Model("acc", tensors, (op,), ("x",), ("y",))


def test_dense_accumulator_bound_2_33() -> None:
    # 2^18 inputs, all weights -128, x - zx up to 255: acc_max = 2^18 * 128 * 255 = 2^25 * 255
    # = 8_556_380_160, between 2^32 and 2^33, so log2 rounded up is 33.
    n_in = 2**18
    model = _dense_model(n_in, np.full((n_in, 1), -128, np.int8), 0)
    assert ir.validate(model) == ["fc: accumulator may reach 2^33"]


def test_dense_accumulator_bound_edge() -> None:
    # acc_max = |bias| + 1 * 255: bias = 2^31 - 1 - 255 gives exactly int32 max (fits);
    # one more reaches 2^31 (does not fit).
    w = np.ones((1, 1), np.int8)
    assert ir.validate(_dense_model(1, w, 2**31 - 1 - 255)) == []
    assert ir.validate(_dense_model(1, w, 2**31 - 255)) == ["fc: accumulator may reach 2^31"]


def test_conv_accumulator_bound_per_channel() -> None:
    # int8 input with zero point -128, so max|x - zx| = 255; 3*3*2 = 18 taps per channel.
    # Fits: channel 0 has w = -128 and bias 2^31 - 2^20: 18*128*255 = 587_520 < 2^20, so
    # acc_max < 2^31; channel 1 has w = 0 and |bias| = 2^31 - 2^20.
    # Too big: channel 0 has w = 127 and bias 2^31 - 2^19: 18*127*255 = 582_930 > 2^19 =
    # 524_288, so acc_max lies just above 2^31 and its log2 rounds up to 32.
    model = _conv_model(shape=(3, 3, 2), in_dtype="int8", in_zero_point=-128, kernel=(3, 3),
                        padding=(1, 1, 1, 1), cout=2, weight_bits=8)
    w = np.zeros((3, 3, 2, 2), np.int8)
    w[..., 0] = -128
    fits = _replace_op(model, weight=w, bias=np.array([2**31 - 2**20, -(2**31 - 2**20)],
                                                      np.int32))
    assert ir.validate(fits) == []
    w[..., 0] = 127
    over = _replace_op(model, weight=w, bias=np.array([2**31 - 2**19, 0], np.int32))
    assert ir.validate(over) == ["conv3: accumulator may reach 2^32"]


def test_global_avgpool_accumulator_bound() -> None:
    # 4096 x 4096 uint8 pixels with zero point 0: acc_max = 2^24 * 255, just under 2^32.
    op = ir.GlobalAvgPool(name="gap", inputs=("x",), output="y", multiplier=1, shift=12)
    tensors = {"x": spec("x", (4096, 4096, 1), "uint8", 0), "y": spec("y", (1, 1, 1), "int8", 0)}
    model = ir.Model("gap", tensors, (op,), ("x",), ("y",))
    assert ir.validate(model) == ["gap: accumulator may reach 2^32"]


def test_check_lists_every_problem_on_one_line() -> None:
    model = dataclasses.replace(_replace_op(_conv_model(), weight_bits=9), outputs=("nowhere",))
    with pytest.raises(ir.IRError) as info:
        ir.check(model)
    assert len(info.value.problems) == 2
    assert str(info.value) == f"IR 'single_conv2d': {'; '.join(info.value.problems)}"
