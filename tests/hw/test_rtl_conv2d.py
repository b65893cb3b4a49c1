"""conv2d.sv vs quant.golden, bit for bit, over shapes, folding, dtypes and backpressure."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hw_helpers import PAUSE_PAIRS, check_engine_run
from ir_factory import random_batch, single_op

from hw.gen.engines import Folding, engine_for
from quant import golden
from quant.compare import first_mismatch
from sim.engine import simulate_op

pytestmark = pytest.mark.rtl

# id: (input HWC, kernel, stride, padding, cout, PE, SIMD, in dtype, in zp, out dtype, relu)
CASES = {
    "3x3-same": ((8, 8, 4), (3, 3), (1, 1), (1, 1, 1, 1), 4, 2, 2, "uint8", 128, "int8", True),
    "3x1": ((7, 6, 2), (3, 1), (1, 1), (1, 1, 0, 0), 3, 3, 1, "int8", -3, "uint8", False),
    "1x3-s2-asym": ((6, 9, 3), (1, 3), (2, 2), (0, 0, 1, 2), 2, 1, 3, "uint8", 0, "int8", True),
    "3x3-s2-asym": ((9, 7, 2), (3, 3), (2, 2), (0, 1, 2, 0), 4, 4, 2, "int8", 5, "int32", False),
    "1x1": ((5, 5, 6), (1, 1), (1, 1), (0, 0, 0, 0), 6, 2, 3, "uint8", 77, "uint8", True),
    "2x2-s2": ((6, 6, 1), (2, 2), (2, 2), (0, 0, 0, 0), 5, 5, 1, "int8", -128, "int8", False),
    "5x5-pad2": ((8, 8, 1), (5, 5), (1, 1), (2, 2, 2, 2), 2, 1, 1, "int8", 0, "int8", True),
}


def make_model(case: str, rng: np.random.Generator, corners: float = 0.14):
    shape, k, s, pad, cout, pe, simd, idt, izp, odt, relu = CASES[case]
    model = single_op("conv2d", rng, shape=shape, kernel=k, stride=s, padding=pad, cout=cout,
                      in_dtype=idt, in_zero_point=izp, out_dtype=odt, relu=relu,
                      corners=corners)
    return model, Folding(pe, simd)


@pytest.mark.parametrize(("src", "sink"), PAUSE_PAIRS)
@pytest.mark.parametrize("case", list(CASES))
def test_conv2d_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                          build_root) -> None:
    model, fold = make_model(case, rng)
    x = random_batch(model, rng, 3)["x"]
    want = golden.run(model, x)["y"]
    res = simulate_op(model, x, tmp_path, fold, src_pause=src, sink_pause=sink, seed=seed,
                      root=build_root)
    check_engine_run(res, want, f"conv2d {case}", case, timed=src == sink == "none")


@pytest.mark.parametrize(("case", "src", "sink"), [
    ("3x3-same", "none", "none"), ("3x1", "1110", "random"), ("3x3-s2-asym", "random", "1110")])
def test_conv2d_packed_bit_exact(case: str, src: str, sink: str, rng, seed, tmp_path,
                                 build_root) -> None:
    """Two products per multiplier (PACK): even and odd PE, unchanged cycles per image."""
    model, fold = make_model(case, rng, corners=0.0)
    fold = dataclasses.replace(fold, pack=True)
    x = random_batch(model, rng, 3)["x"]
    want = golden.run(model, x)["y"]
    res = simulate_op(model, x, tmp_path, fold, src_pause=src, sink_pause=sink, seed=seed,
                      root=build_root)
    assert res.engine.params["PACK"] is True
    check_engine_run(res, want, f"conv2d {case} packed", case, timed=src == sink == "none")


@pytest.mark.parametrize("case", ["3x3-same", "3x3-s2-asym"])
def test_conv2d_unit_m_bit_exact(case: str, rng, seed, tmp_path, build_root) -> None:
    """Every M = 1 (the pot scheme): the engine gets UNIT_M (requantiser without multiplier)
    and still matches golden, shifts 0..46 included, packed, under random backpressure."""
    model, fold = make_model(case, rng)
    op = model.ops[0]
    shift = rng.integers(0, 47, op.shift.shape).astype(op.shift.dtype)
    shift[:2] = (0, 46)
    pot = dataclasses.replace(op, multiplier=np.ones_like(op.multiplier), shift=shift)
    model = dataclasses.replace(model, ops=(pot,))
    x = random_batch(model, rng, 3)["x"]
    want = golden.run(model, x)["y"]
    res = simulate_op(model, x, tmp_path, dataclasses.replace(fold, pack=fold.pe > 1),
                      src_pause="random", sink_pause="random", seed=seed, root=build_root)
    assert res.engine.params["UNIT_M"] is True
    check_engine_run(res, want, f"conv2d {case} UNIT_M", case, timed=False)


def test_corrupted_rom_word_is_caught_and_located(rng, tmp_path, build_root) -> None:
    """Flip the sign bit of one weight in the .mem file: the RTL must then differ from the
    golden model exactly where the golden model with that weight changed differs, and the
    comparison must name the first such element."""
    model, fold = make_model("3x3-same", rng, corners=0.0)
    op = model.ops[0]
    x = random_batch(model, rng, 2)["x"]
    want = golden.run(model, x)["y"]
    engine = engine_for(op, model, fold)
    engine.write_mems(tmp_path)
    # Word of output-channel group nf=1, centre tap (1, 1), channel word 0; lane 0 is
    # w[1, 1, 0, PE * 1] (see conv2d.sv).
    cw, sf = 4 // fold.simd, 9 * (4 // fold.simd)
    k = sf * 1 + (1 * 3 + 1) * cw
    path = tmp_path / str(engine.params["WEIGHT_FILE"])
    lines = path.read_text().splitlines()
    digits = len(lines[k])
    lines[k] = f"{int(lines[k], 16) ^ 0x80:0{digits}x}"
    path.write_text("\n".join(lines) + "\n")
    weight = op.weight.copy()
    weight[1, 1, 0, fold.pe] ^= np.int8(-128)
    bad_model = dataclasses.replace(model, ops=(dataclasses.replace(op, weight=weight),))
    want_bad = golden.run(bad_model, x)["y"]
    assert not np.array_equal(want, want_bad)

    res = simulate_op(model, x, tmp_path, fold, root=build_root, mems=False)
    assert res.run.sim.passed, res.run.sim.message
    assert first_mismatch(want_bad, res.run.frames) is None  # the RTL read the corrupted word
    problem = first_mismatch(want, res.run.frames, name="conv2d")
    n, flat = next((n, int(np.flatnonzero(a != b)[0]))
                   for n, (a, b) in enumerate(zip(want.reshape(len(x), -1),
                                                  want_bad.reshape(len(x), -1), strict=True))
                   if (a != b).any())
    index = list(map(int, np.unravel_index(flat, want.shape[1:])))
    assert problem is not None and f"image {n} element {index} (flat {flat})" in problem
    assert index[2] == fold.pe  # the corrupted weight's output channel
