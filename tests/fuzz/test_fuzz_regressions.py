"""Failures the fuzzer (`bench/bench_fuzz.py`, `tests/fuzz/graphs.py`) found, shrunk, kept."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import make_op, random_batch, single_op, spec

from base.paths import ROOT
from hw.hls.graph import Unsupported
from hw.hls.lower import lower
from tests.hls.csim_check import assert_bit_exact


@pytest.mark.parametrize(("dtype", "zero_point"), [("uint8", 255), ("int8", 127)])
@pytest.mark.parametrize("kind", ["conv2d", "dense"])
def test_hls_relu_clipping_to_one_value_is_refused(kind: str, dtype: str, zero_point: int
                                                    ) -> None:
    """A relu whose output zero point is the dtype's top clips every value to it: lowering
    asserted deep inside `channels`; it is refused, naming the op."""
    model = single_op(kind, np.random.default_rng(3), relu=True, out_dtype=dtype,
                      out_zero_point=zero_point)
    with pytest.raises(Unsupported, match=f"^y: relu with output zero point {zero_point} at the "
                                          f"top of {dtype} clips every value to {zero_point}"):
        lower(model)


@pytest.mark.parametrize(("kind", "kernel", "stride"), [
    ("conv2d", (1, 3), (2, 1)), ("conv2d", (1, 2), (2, 1)), ("avgpool", (1, 1), (2, 2)),
    ("avgpool", (1, 3), (2, 1))])
def test_hls_window_shorter_than_its_stride_is_refused(kind: str, kernel: tuple[int, int],
                                                       stride: tuple[int, int]) -> None:
    """hls4ml's streaming Conv2D/DepthwiseConv2D gave wrong values (an avgpool 1×3 stride 2×1
    inside a concat/sigmoid graph, shrunk); such windows are refused, naming the op."""
    params = {"padding": (0, 0, 0, 0)} if kind == "conv2d" else {}
    model = single_op(kind, np.random.default_rng(4), shape=(7, 5, 2), kernel=kernel,
                      stride=stride, **params)
    with pytest.raises(Unsupported, match=f"^y: kernel height {kernel[0]} below stride "
                                          f"{stride[0]}"):
        lower(model)


@pytest.mark.hls
@pytest.mark.slow
def test_hls_pointwise_conv_with_stride_stays_exact(tmp_path) -> None:
    """The exception to the refusal above: a 1×1 Conv2D of stride 2 (hls4ml's pointwise path)."""
    rng = np.random.default_rng(5)
    model = single_op("conv2d", rng, shape=(7, 5, 2), kernel=(1, 1), stride=(2, 2),
                      padding=(0, 0, 0, 0), relu=False, out_dtype="int8", out_zero_point=0)
    assert_bit_exact(model, rng, tmp_path, 20)


@pytest.mark.rtl
@pytest.mark.slow
def test_seq_rtl_mul_by_a_one_pixel_spatial_gate(tmp_path, monkeypatch) -> None:
    """Shrunk from a spatial gate after global pooling: reduce_channels → sigmoid → mul (a
    one-channel b under CHANNEL broadcast is spread from lane 0, like a per-pixel gate)."""
    from hw.gen.seq.check import check_program
    from hw.gen.seq.compiler import compile_model
    from hw.gen.seq.records import pack_inputs, unpack_outputs
    from quant import golden, ir
    from sim import runner
    from tests.hw.seq.test_seq_engine import CONFIG, simulate

    monkeypatch.syspath_prepend(str(ROOT / "tests" / "hw" / "seq"))  # tb_seq_engine
    rng = np.random.default_rng(1)
    tensors = {"x": spec("x", (1, 1, 3), "int8", 3)}
    ops = []
    for kind, name, inputs, params in (
            ("reduce_channels", "r", ["x"], {"mode": "max"}),
            ("sigmoid", "g", ["r"], {"out_dtype": "uint8"}),
            ("mul", "y", ["x", "g"], {"out_dtype": "int8"})):
        op, out = make_op(kind, rng, name, [tensors[t] for t in inputs], corners=0.0, **params)
        ops.append(op)
        tensors[name] = out
    model = ir.Model("gate1x1", tensors, tuple(ops), ("x",), ("y",))
    feeds = random_batch(model, rng, 3)
    program = compile_model(model, CONFIG, 2)
    assert check_program(model, program, feeds).first_mismatch is None
    raw, result = simulate(program, pack_inputs(program, feeds), 3, tmp_path, runner.build_root(),
                           seed=1)
    assert result["error_code"] == 0
    got = unpack_outputs(program, raw, 3)["y"]
    np.testing.assert_array_equal(got, golden.run(model, feeds)["y"])
