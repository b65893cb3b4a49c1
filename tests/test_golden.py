"""quant/golden.py: bit-exact against the slow reference, and against hand-computed cases."""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest
import reference_ops
from ir_factory import all_ops_graph, random_batch, single_op, spec

from quant import golden, ir

KINDS = sorted(ir.OPS)


def _rng(*key: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def assert_matches_reference(model: ir.Model, feeds: dict[str, np.ndarray], what: str) -> None:
    """Golden == reference on every tensor, with the declared dtype and shape."""
    got = golden.run(model, feeds)
    want = reference_ops.run(model, feeds)
    assert set(got) == set(model.tensors)
    n = len(next(iter(feeds.values())))
    for name, t in model.tensors.items():
        np.testing.assert_array_equal(got[name], want[name], err_msg=f"{what}: tensor {name}")
        assert got[name].dtype == np.dtype(t.dtype), (what, name)
        assert got[name].shape == (n, *t.shape), (what, name)


# ------------------------------------------------------------------ random cases vs reference


@pytest.mark.parametrize("kind", KINDS)
def test_random_single_op_matches_reference(kind: str) -> None:
    rng = _rng(kind)
    for case in range(100):
        model = single_op(kind, rng)
        assert ir.validate(model) == []
        assert_matches_reference(model, random_batch(model, rng), f"{kind} case {case}")


@pytest.mark.parametrize("stride", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("kernel", [(1, 1), (3, 1), (1, 3), (2, 3), (3, 3)])
def test_conv2d_kernels_strides_asymmetric_padding(kernel: tuple[int, int],
                                                   stride: tuple[int, int]) -> None:
    rng = _rng(kernel, stride)
    kh, kw = kernel
    for padding in [(0, 0, 0, 0), (kh - 1, 0, 0, kw - 1), (0, kh // 2, kw - 1, 0)]:
        model = single_op("conv2d", rng, kernel=kernel, stride=stride, padding=padding,
                          shape=(5, 6, 2))
        assert_matches_reference(model, random_batch(model, rng), f"padding {padding}")


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("in_dtype", ["int8", "uint8"])
@pytest.mark.parametrize("kind", ["conv2d", "dense"])
def test_mac_ops_dtypes_relu(kind: str, in_dtype: str, relu: bool) -> None:
    rng = _rng(kind, in_dtype, relu)
    for case in range(10):
        model = single_op(kind, rng, in_dtype=in_dtype, relu=relu)
        assert_matches_reference(model, random_batch(model, rng), f"case {case}")


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_pool_windows(kind: str) -> None:
    rng = _rng(kind, "windows")
    for kernel in [(1, 2), (2, 1), (2, 2), (3, 3)]:
        for stride in [(1, 1), (2, 2), (1, 2)]:
            model = single_op(kind, rng, kernel=kernel, stride=stride, shape=(5, 4, 2))
            assert_matches_reference(model, random_batch(model, rng), f"{kernel} {stride}")


@pytest.mark.parametrize("shift", [0, 1, 15, 31, 46])
@pytest.mark.parametrize("multiplier", [1, 3, 2**15])
def test_requant_shift_multiplier_extremes(multiplier: int, shift: int) -> None:
    rng = _rng(multiplier, shift)
    for out_dtype in ["int8", "uint8", "int32"]:
        model = single_op("requant", rng, out_dtype=out_dtype)
        op = dataclasses.replace(model.ops[0], multiplier=multiplier, shift=shift)
        model = dataclasses.replace(model, ops=(op,))
        assert_matches_reference(model, random_batch(model, rng, n=4), out_dtype)


def test_saturation_corners() -> None:
    """Full-scale inputs through M = 2^15, s = 0 hit both ends of every output dtype."""
    rng = _rng("saturation")
    for out_dtype in ["int8", "uint8", "int32"]:
        model = single_op("dense", rng, shape=(2, 2, 3), in_dtype="int8", in_zero_point=0,
                          cout=6, out_dtype=out_dtype, out_zero_point=0, relu=False,
                          weight_bits=8)
        op = model.ops[0]
        op = dataclasses.replace(op, weight=np.where(np.arange(6) % 2, 127, -128)
                                 .astype(np.int8) * np.ones((12, 1), np.int8),
                                 bias=np.zeros(6, np.int32),
                                 multiplier=np.full(6, 2**15, np.int32),
                                 shift=np.zeros(6, np.int32))
        model = dataclasses.replace(model, ops=(op,))
        assert ir.validate(model) == []
        feeds = {"x": np.stack([np.full((2, 2, 3), -128), np.full((2, 2, 3), 127)])
                 .astype(np.int8)}
        assert_matches_reference(model, feeds, out_dtype)
        y = golden.run(model, feeds)["y"]
        lo, hi = ir.DTYPES[out_dtype]
        assert y.min() == lo and y.max() == hi


def test_all_ops_graph_matches_reference() -> None:
    for seed in range(8):
        rng = _rng("graph", seed)
        model = all_ops_graph(rng)
        assert {op.kind for op in model.ops} == set(ir.OPS)
        assert ir.validate(model) == []
        assert_matches_reference(model, random_batch(model, rng, n=3), f"seed {seed}")


def test_harness_catches_a_rounding_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative test: golden with floor instead of round-half-up must fail the comparison."""
    monkeypatch.setattr(golden, "requantize",
                        lambda acc, m, s: acc * np.asarray(m) // 2 ** np.asarray(s))
    rng = _rng("negative")
    with pytest.raises(AssertionError, match="Arrays are not equal"):
        for case in range(20):
            model = single_op("conv2d", rng)
            assert_matches_reference(model, random_batch(model, rng), f"case {case}")


# --------------------------------------------------------------------- hand-computed cases


def test_requantize_hand() -> None:
    acc = np.array([5, -5, 4, -4, 7, -7])
    # s = 1, r = 1: (5+1)>>1 = 3; (-5+1)>>1 = -4>>1 = -2; (4+1)>>1 = 2; (-4+1)>>1 = floor(-1.5)
    # = -2; (7+1)>>1 = 4; (-7+1)>>1 = -3.
    np.testing.assert_array_equal(golden.requantize(acc, 1, 1), [3, -2, 2, -2, 4, -3])
    # s = 0, r = 0: plain product. M = 3, s = 2, r = 2: (21+2)>>2 = 5; (-21+2)>>2 = floor(-4.75)
    # = -5.
    np.testing.assert_array_equal(golden.requantize(np.array([-5]), 3, 0), [-15])
    np.testing.assert_array_equal(golden.requantize(np.array([7, -7]), 3, 2), [5, -5])
    # Largest shift: (2^31-1)*2^15 + 2^45 = 2^46 + 2^45 - 2^15 -> >>46 = 1;
    # -2^31*2^15 + 2^45 = -2^45 -> >>46 = floor(-0.5) = -1.
    np.testing.assert_array_equal(
        golden.requantize(np.array([2**31 - 1, -(2**31)]), 2**15, 46), [1, -1])
    # Per channel along the last axis: (10*1 + 1)>>1 = 5; (10*3 + 2)>>2 = 8.
    np.testing.assert_array_equal(golden.requantize(np.array([[10, 10]]), [1, 3], [1, 2]),
                                  [[5, 8]])


def _conv(weight: np.ndarray, bias: list[int], m: list[int], s: list[int], kernel=(1, 1),
          stride=(1, 1), padding=(0, 0, 0, 0), relu: bool = False) -> ir.Conv2d:
    return ir.Conv2d(name="conv", inputs=("x",), output="y", kernel=kernel, stride=stride,
                     padding=padding, weight=np.asarray(weight, np.int8),
                     bias=np.asarray(bias, np.int32), multiplier=np.asarray(m, np.int32),
                     shift=np.asarray(s, np.int32), relu=relu)


@pytest.mark.parametrize(("relu", "expected"), [(False, [[4, 3], [2, 1]]),
                                                (True, [[4, 3], [3, 3]])])
def test_conv2d_1x1_hand(relu: bool, expected: list[list[int]]) -> None:
    # x - zx = [[0, 1], [2, 3]]; acc = 1 - 2*(x - zx) = [[1, -1], [-3, -5]];
    # rq (s=1, r=1): (1+1)>>1 = 1, (-1+1)>>1 = 0, (-3+1)>>1 = -1, (-5+1)>>1 = -2;
    # + z_out 3 = [[4, 3], [2, 1]]; a fused relu clips below at z_out = 3.
    x = np.array([[[[1], [2]], [[3], [4]]]], np.uint8)
    op = _conv([[[[-2]]]], [1], [1], [1], relu=relu)
    y = golden.conv2d(op, [x], [spec("x", (2, 2, 1), "uint8", 1)], spec("y", (2, 2, 1), "int8", 3))
    assert y.dtype == np.int8
    np.testing.assert_array_equal(y[0, :, :, 0], expected)


def test_conv2d_padding_holds_zero_point_hand() -> None:
    # One pixel 10 (zx = 7) under a 3x3 all-ones kernel padded by 1: the 8 pads hold zx, so
    # acc = 10 - 7 = 3. (Pads holding 0 would give 3 + 8*(0 - 7) = -53.)
    x = np.full((1, 1, 1, 1), 10, np.uint8)
    op = _conv(np.ones((3, 3, 1, 1)), [0], [1], [0], kernel=(3, 3), padding=(1, 1, 1, 1))
    y = golden.conv2d(op, [x], [spec("x", (1, 1, 1), "uint8", 7)], spec("y", (1, 1, 1), "int32", 0))
    assert y.item() == 3


def test_conv2d_asymmetric_padding_stride_hand() -> None:
    # Row [5, 6, 7] (int8, zx = 0), kernel 1x2 = [1, 10], padding left 1, right 0, stride 2:
    # padded row [0, 5, 6, 7]; windows at 0 and 2: 0*1 + 5*10 = 50 and 6*1 + 7*10 = 76.
    x = np.array([[[[5], [6], [7]]]], np.int8)
    op = _conv(np.array([1, 10]).reshape(1, 2, 1, 1), [0], [1], [0], kernel=(1, 2),
               stride=(1, 2), padding=(0, 0, 1, 0))
    y = golden.conv2d(op, [x], [spec("x", (1, 3, 1), "int8", 0)], spec("y", (1, 2, 1), "int32", 0))
    np.testing.assert_array_equal(y.ravel(), [50, 76])


def test_dense_flattens_hwc_hand() -> None:
    # x[h=0, w, c] = [[1, 2], [3, 4]] flattens (H, W, C order) to [1, 2, 3, 4]; with weights
    # [1, 10, 100, 125] and bias 7: acc = 7 + 1 + 20 + 300 + 500 = 828 (M = 1, s = 0).
    x = np.array([[[[1, 2], [3, 4]]]], np.int8)
    op = ir.Dense(name="fc", inputs=("x",), output="y",
                  weight=np.array([[1], [10], [100], [125]], np.int8),
                  bias=np.array([7], np.int32), multiplier=np.array([1], np.int32),
                  shift=np.array([0], np.int32))
    y = golden.dense(op, [x], [spec("x", (1, 2, 2), "int8", 0)], spec("y", (1, 1, 1), "int32", 0))
    assert y.shape == (1, 1, 1, 1) and y.item() == 828


def test_maxpool_pads_never_win_hand() -> None:
    # x = [[-9, -7], [-5, -6]] (zx = 0), 2x2 window, stride 1, padding top 1 and left 1:
    # windows (0,0): {-9}; (0,1): {-9, -7}; (1,0): {-9, -5}; (1,1): all -> -5.
    # A pad holding zx = 0 would win every window.
    x = np.array([[-9, -7], [-5, -6]], np.int8).reshape(1, 2, 2, 1)
    op = ir.MaxPool(name="pool", inputs=("x",), output="y", kernel=(2, 2), stride=(1, 1),
                    padding=(1, 0, 1, 0))
    t = spec("x", (2, 2, 1), "int8", 0)
    y = golden.maxpool(op, [x], [t], dataclasses.replace(t, name="y"))
    np.testing.assert_array_equal(y[0, :, :, 0], [[-9, -7], [-5, -5]])


def test_avgpool_and_global_avgpool_hand() -> None:
    # [[1, 2], [3, 5]] uint8, zx = 1: acc = 0 + 1 + 2 + 4 = 7; M = 1, s = 2: (7+2)>>2 = 2
    # (7/4 = 1.75 rounds to 2); z_out = -1 -> 1. Same numbers for the global pool.
    x = np.array([[1, 2], [3, 5]], np.uint8).reshape(1, 2, 2, 1)
    t_in, t_out = spec("x", (2, 2, 1), "uint8", 1), spec("y", (1, 1, 1), "int8", -1)
    avg = ir.AvgPool(name="avg", inputs=("x",), output="y", kernel=(2, 2), stride=(2, 2),
                     multiplier=1, shift=2)
    gap = ir.GlobalAvgPool(name="gap", inputs=("x",), output="y", multiplier=1, shift=2)
    assert golden.avgpool(avg, [x], [t_in], t_out).item() == 1
    assert golden.global_avgpool(gap, [x], [t_in], t_out).item() == 1


def test_gwap_hand() -> None:
    # [[10, 20], [30, 40]] uint8, zx = 5 -> offsets [[5, 15], [25, 35]]; w = [[1, -1], [2, 0]]:
    # acc = 5 - 15 + 50 + 0 = 40; M = 3, s = 3: (120+4)>>3 = 15; z_out = 0 -> 15.
    x = np.array([[10, 20], [30, 40]], np.uint8).reshape(1, 2, 2, 1)
    op = ir.Gwap(name="gwap", inputs=("x",), output="y",
                 weight=np.array([[1, -1], [2, 0]], np.int8).reshape(2, 2, 1),
                 multiplier=np.array([3], np.int32), shift=np.array([3], np.int32))
    y = golden.gwap(op, [x], [spec("x", (2, 2, 1), "uint8", 5)], spec("y", (1, 1, 1), "int8", 0))
    assert y.item() == 15


def test_reduce_channels_hand() -> None:
    # Pixel [3, -1, 5] (int8, zx = 1): offsets [2, -2, 4], sum 4; M = 1, s = 1: (4+1)>>1 = 2.
    # Max mode: 5, unchanged quantisation.
    x = np.array([3, -1, 5], np.int8).reshape(1, 1, 1, 3)
    t_in = spec("x", (1, 1, 3), "int8", 1)
    mean = ir.ReduceChannels(name="r", inputs=("x",), output="y", mode="mean", multiplier=1,
                             shift=1)
    biggest = ir.ReduceChannels(name="r", inputs=("x",), output="y", mode="max")
    assert golden.reduce_channels(mean, [x], [t_in], spec("y", (1, 1, 1), "int8", 0)).item() == 2
    t_max = dataclasses.replace(t_in, name="y", shape=(1, 1, 1))
    assert golden.reduce_channels(biggest, [x], [t_in], t_max).item() == 5


def test_add_hand() -> None:
    # x1 = 10 (int8, z1 = 2) -> 8; x2 = 100 (uint8, z2 = 128) -> -28; M1 = 3, M2 = 5:
    # acc = 24 - 140 = -116; s = 2: (-116+2)>>2 = -114>>2 = floor(-28.5) = -29; z_out 10 -> -19.
    op = ir.Add(name="add", inputs=("a", "b"), output="y", multipliers=(3, 5), shift=2)
    y = golden.add(op, [np.full((1, 1, 1, 1), 10, np.int8), np.full((1, 1, 1, 1), 100, np.uint8)],
                   [spec("a", (1, 1, 1), "int8", 2), spec("b", (1, 1, 1), "uint8", 128)],
                   spec("y", (1, 1, 1), "int8", 10))
    assert y.item() == -19


def test_mul_broadcast_hand() -> None:
    # x1 (H=1, W=2, C=2, zx = 0): pixel 0 = [1, 2], pixel 1 = [3, 4].
    x1 = np.array([[1, 2], [3, 4]], np.int8).reshape(1, 1, 2, 2)
    t1 = spec("a", (1, 2, 2), "int8", 0)
    out = spec("y", (1, 2, 2), "int8", 0)
    # Channel attention [1, 1, 2] = [12, 7] (uint8, zx = 10) -> [2, -3]; products
    # [[2, -6], [6, -12]]; s = 1: (2+1)>>1 = 1, (-6+1)>>1 = -3, (6+1)>>1 = 3, (-12+1)>>1 = -6.
    op = ir.Mul(name="mul", inputs=("a", "b"), output="y", multiplier=1, shift=1)
    y = golden.mul(op, [x1, np.array([12, 7], np.uint8).reshape(1, 1, 1, 2)],
                   [t1, spec("b", (1, 1, 2), "uint8", 10)], out)
    np.testing.assert_array_equal(y[0, 0], [[1, -3], [3, -6]])
    # Spatial attention [1, 2, 1] = [2, -1] (int8, zx = 0); s = 0: [[2, 4], [-3, -4]].
    op = dataclasses.replace(op, shift=0)
    y = golden.mul(op, [x1, np.array([2, -1], np.int8).reshape(1, 1, 2, 1)],
                   [t1, spec("b", (1, 2, 1), "int8", 0)], out)
    np.testing.assert_array_equal(y[0, 0], [[2, 4], [-3, -4]])


def test_requant_saturates_hand() -> None:
    # int8 [-128, 127], zx = -128 -> offsets [0, 255]; M = 2^15, s = 7:
    # (255*32768 + 64)>>7 = 65280 -> clipped to 127 (int8) / 255 (uint8); 0 stays 0.
    x = np.array([-128, 127], np.int8).reshape(1, 1, 2, 1)
    op = ir.Requant(name="rq", inputs=("x",), output="y", multiplier=2**15, shift=7)
    t_in = spec("x", (1, 2, 1), "int8", -128)
    for dtype, top in [("int8", 127), ("uint8", 255)]:
        y = golden.requant(op, [x], [t_in], spec("y", (1, 2, 1), dtype, 0))
        np.testing.assert_array_equal(y.ravel(), [0, top])


def test_sigmoid_lut_index_hand() -> None:
    # y = lut[x - lo_in]: int8 -128, 0, 127 -> indices 0, 128, 255; uint8 0, 255 -> 0, 255.
    op = ir.Sigmoid(name="sig", inputs=("x",), output="y",
                    lut=np.arange(256)[::-1].astype(np.uint8))
    y = golden.sigmoid(op, [np.array([-128, 0, 127], np.int8).reshape(1, 1, 3, 1)],
                       [spec("x", (1, 3, 1), "int8", 0)], spec("y", (1, 3, 1), "uint8", 0))
    np.testing.assert_array_equal(y.ravel(), [255, 127, 0])
    y = golden.sigmoid(op, [np.array([0, 255], np.uint8).reshape(1, 1, 2, 1)],
                       [spec("x", (1, 2, 1), "uint8", 9)], spec("y", (1, 2, 1), "uint8", 0))
    np.testing.assert_array_equal(y.ravel(), [255, 0])


def test_prelu_hand() -> None:
    # int8, zx = -2, C = 2, M_pos = 4, M_neg = [1, 3], s = 2 (r = 2).
    # pixel [-5, -5]: offsets -3 -> acc [-3*1, -3*3] = [-3, -9] -> (-1)>>2 = -1, (-7)>>2 = -2;
    # pixel [4, -2]: offsets [6, 0] -> acc [24, 0] -> (26)>>2 = 6, (2)>>2 = 0.
    op = ir.Prelu(name="prelu", inputs=("x",), output="y", multiplier_pos=4,
                  multiplier_neg=np.array([1, 3], np.int32), shift=2)
    x = np.array([[-5, -5], [4, -2]], np.int8).reshape(1, 1, 2, 2)
    y = golden.prelu(op, [x], [spec("x", (1, 2, 2), "int8", -2)], spec("y", (1, 2, 2), "int8", 0))
    np.testing.assert_array_equal(y[0, 0], [[-1, -2], [6, 0]])


def test_concat_and_reshape_hand() -> None:
    a = np.array([1, 2], np.int8).reshape(1, 1, 2, 1)
    b = np.array([[3, 4], [5, 6]], np.int8).reshape(1, 1, 2, 2)
    t = spec("a", (1, 2, 1), "int8", 0)
    cat = ir.Concat(name="cat", inputs=("a", "b"), output="y")
    y = golden.concat(cat, [a, b], [t, dataclasses.replace(t, name="b", shape=(1, 2, 2))],
                      dataclasses.replace(t, name="y", shape=(1, 2, 3)))
    np.testing.assert_array_equal(y[0, 0], [[1, 3, 4], [2, 5, 6]])
    # Row-major reinterpretation [1, 2, 3] -> [3, 2, 1]: flat data [1, 3, 4, 2, 5, 6] in rows of 2.
    op = ir.Reshape(name="rs", inputs=("y",), output="z", shape=(3, 2, 1))
    z = golden.reshape(op, [y], [t], dataclasses.replace(t, name="z", shape=(3, 2, 1)))
    np.testing.assert_array_equal(z[0, :, :, 0], [[1, 3], [4, 2], [5, 6]])


# ---------------------------------------------- float64 multiply-accumulate and its fallback


def test_mac_dtype_bound() -> None:
    # Partial sums are bounded by terms * max|x - zx| * 128 + 2^31 (int32 bias). uint8 with
    # zx = 0 and int8 with zx = 127 both reach |x - zx| = 255: float64 while
    # terms * 32640 + 2^31 < 2^53.
    last = (2**53 - 2**31 - 1) // (255 * 128)
    for t in (spec("x", (1, 1, 1), "uint8", 0), spec("x", (1, 1, 1), "int8", 127)):
        assert golden.mac_dtype(t, last) == np.float64
        assert golden.mac_dtype(t, last + 1) == np.int64
    # int32 inputs (|x - zx| up to 2^31) switch at 2^15 terms: 2^15 * 2^31 * 2^7 = 2^53.
    wide = spec("x", (1, 1, 1), "int32", 0)
    assert golden.mac_dtype(wide, 2**15 - 1) == np.float64
    assert golden.mac_dtype(wide, 2**15) == np.int64
    # Why the bound: 2^53 + 1 is the first integer float64 cannot hold.
    assert np.float64(2**53) + np.float64(1) == np.float64(2**53)


def test_requantize_float64_equals_int64() -> None:
    # The hand cases of test_requantize_hand through the float64 path: s = 1 gives
    # [3, -2, 2, -2, 4, -3]; s = 0 leaves the product; s = 46 with M = 2^15 at both int32 ends.
    acc = np.array([5, -5, 4, -4, 7, -7], np.float64)
    np.testing.assert_array_equal(golden.requantize(acc, 1, 1), [3, -2, 2, -2, 4, -3])
    np.testing.assert_array_equal(golden.requantize(np.array([-5.0]), 3, 0), [-15])
    np.testing.assert_array_equal(
        golden.requantize(np.array([2.0**31 - 1, -(2.0**31)]), 2**15, 46), [1, -1])
    # Every shift, extreme multipliers, int32 ends and values near each rounding tie.
    rng = _rng("requantize float")
    ties = (np.arange(-3, 4)[:, None] + 2 ** np.arange(31)).ravel()
    acc = np.concatenate([ties, -ties, [0, 2**31 - 1, -(2**31)],
                          rng.integers(-(2**31), 2**31, 500)]).astype(np.int64)
    for m in (1, 3, 12_345, 2**15):
        for s in range(ir.S_MAX + 1):
            want = golden.requantize(acc, m, s)
            got = golden.requantize(acc.astype(np.float64), m, s)
            np.testing.assert_array_equal(got, want, err_msg=f"M={m} s={s}")


def _extreme_dense(terms: int, in_dtype: str, bias: int) -> tuple[ir.Dense, list[ir.TensorSpec]]:
    """All weights -128 over `terms` inputs of zero point 127, M = 1, s = 0, int32 output."""
    op = ir.Dense(name="fc", inputs=("x",), output="y", weight=np.full((terms, 1), -128, np.int8),
                  bias=np.array([bias], np.int32), multiplier=np.array([1], np.int32),
                  shift=np.array([0], np.int32))
    return op, [spec("x", (1, terms, 1), in_dtype, 127), spec("y", (1, 1, 1), "int32", 0)]


@pytest.mark.parametrize(("in_dtype", "path"), [("int8", np.float64), ("int32", np.int64)])
def test_dense_extreme_operands_both_paths(in_dtype: str, path: type) -> None:
    # x = -128, zx = 127: every product is (-255) * (-128) = 32640; over 65,000 terms
    # acc = 2,121,600,000, the largest same-sign sum below 2^31 - 1 = 2,147,483,647. As int8
    # the reduction runs in float64; the same values declared int32 exceed the float bound
    # (65,000 * (2^31 + 127) * 128 > 2^53) and run in int64.
    terms, acc = 65_000, 255 * 128 * 65_000
    op, (t_in, t_out) = _extreme_dense(terms, in_dtype, 0)
    assert golden.mac_dtype(t_in, terms) == path
    x = np.full((2, 1, terms, 1), -128, t_in.dtype)
    assert golden.dense(op, [x], [t_in], t_out).ravel().tolist() == [acc, acc]
    top, _ = _extreme_dense(terms, in_dtype, 2**31 - 1 - acc)
    assert golden.dense(top, [x], [t_in], t_out).ravel().tolist() == [2**31 - 1] * 2
    over, _ = _extreme_dense(terms, in_dtype, 2**31 - acc)
    with pytest.raises(OverflowError, match=r"^fc: accumulator left int32 .*2147483648"):
        golden.dense(over, [x], [t_in], t_out)


@pytest.mark.parametrize("in_dtype", ["int8", "int32"])
def test_conv2d_and_gwap_extreme_operands(in_dtype: str) -> None:
    # A 3x3 window over 7,000 channels (63,000 terms) and a 250x260 GWAP, all products 32640,
    # in both paths, against the plain-loop reference and the hand value.
    t_in = spec("x", (3, 3, 7000), in_dtype, 127)
    conv = _conv(np.full((3, 3, 7000, 1), -128), [5], [1], [0], kernel=(3, 3))
    x = np.full((1, 3, 3, 7000), -128, t_in.dtype)
    t_out = spec("y", (1, 1, 1), "int32", 0)
    y = golden.conv2d(conv, [x], [t_in], t_out)
    assert y.item() == 255 * 128 * 63_000 + 5
    np.testing.assert_array_equal(y, reference_ops.conv2d(conv, [x], [t_in], t_out))
    t_in = spec("x", (250, 260, 1), in_dtype, 127)
    op = ir.Gwap(name="gwap", inputs=("x",), output="y",
                 weight=np.full((250, 260, 1), -128, np.int8),
                 multiplier=np.array([1], np.int32), shift=np.array([0], np.int32))
    x = np.full((1, 250, 260, 1), -128, t_in.dtype)
    y = golden.gwap(op, [x], [t_in], t_out)
    assert y.item() == 255 * 128 * 65_000
    np.testing.assert_array_equal(y, reference_ops.gwap(op, [x], [t_in], t_out))


@pytest.mark.parametrize("block_bytes", [1, 2**12])
def test_conv2d_blocks_match_reference(monkeypatch: pytest.MonkeyPatch, block_bytes: int) -> None:
    """Small blocks (one image per block at 1 byte) give the same tensors as one big block."""
    monkeypatch.setattr(golden, "BLOCK_BYTES", block_bytes)
    rng = _rng("blocks", block_bytes)
    for case in range(20):
        model = single_op("conv2d", rng)
        assert_matches_reference(model, random_batch(model, rng, n=5), f"case {case}")


# ----------------------------------------------------------------------------- run() errors


def _fc_overflowing() -> ir.Model:
    """dense on x = 255 (uint8, zx = 0), w = 1, bias = 2^31 - 1: acc = 2^31 + 254."""
    op = ir.Dense(name="fc", inputs=("x",), output="y", weight=np.ones((1, 1), np.int8),
                  bias=np.array([2**31 - 1], np.int32), multiplier=np.array([1], np.int32),
                  shift=np.array([0], np.int32))
    tensors = {"x": spec("x", (1, 1, 1), "uint8", 0), "y": spec("y", (1, 1, 1), "int32", 0)}
    return ir.Model("overflow", tensors, (op,), ("x",), ("y",))


def test_runtime_accumulator_overflow_names_layer() -> None:
    model = _fc_overflowing()
    golden.run(model, np.zeros((1, 1, 1, 1), np.uint8))  # acc = 2^31 - 1 still fits
    with pytest.raises(OverflowError, match=r"^fc: accumulator left int32"):
        golden.run(model, np.full((1, 1, 1, 1), 255, np.uint8))


def test_run_rejects_bad_inputs() -> None:
    model = single_op("requant", _rng("inputs"), shape=(2, 2, 1), in_dtype="uint8")
    with pytest.raises(ValueError, match=r"input 'x': expected \[N, 2, 2, 1\]"):
        golden.run(model, np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="input 'x': values 0..300 outside uint8"):
        golden.run(model, np.array([0, 1, 2, 300]).reshape(1, 2, 2, 1))
    with pytest.raises(ValueError, match="model inputs are"):
        golden.run(model, {"image": np.zeros((1, 2, 2, 1), np.uint8)})


def test_run_in_threads_equals_one_thread() -> None:
    """Parts of a batch evaluated by worker threads give the tensors of a single thread."""
    rng = _rng("workers")
    model = all_ops_graph(rng)
    feeds = random_batch(model, rng, n=7)
    one = golden.run(model, feeds, workers=1)
    for workers in (2, 3, 7, 9):
        got = golden.run(model, feeds, workers=workers)
        assert set(got) == set(one)
        for name, value in one.items():
            np.testing.assert_array_equal(got[name], value, err_msg=f"{workers}: {name}")


def test_overflow_in_a_worker_thread_names_layer() -> None:
    x = np.zeros((4, 1, 1, 1), np.uint8)
    x[3] = 255
    with pytest.raises(OverflowError, match=r"^fc: accumulator left int32"):
        golden.run(_fc_overflowing(), x, workers=2)
