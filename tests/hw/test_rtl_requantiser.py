"""requantiser.sv vs quant.golden.requantize + saturate: corner cross product and random values;
UNIT_M (every M = 1, no multiplier) ignores mult_i and needs no DSP48."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from quant import golden, ir
from quant.compare import first_mismatch
from sim import runner
from sim.vectors import pack_lanes, run_vectors, unpack_lanes

pytestmark = pytest.mark.rtl

LANES = 4
ACC_CORNERS = [-(2**31), -(2**31) + 1, -(2**30), -65536, -1000, -7, -3, -2, -1, 0, 1, 2, 3, 7,
               1000, 65536, 2**30, 2**31 - 1]
M_CORNERS = [1, 2, 3, 2**14 + 1, 2**15 - 1, 2**15]
S_CORNERS = [0, 1, 2, 3, 15, 31, 32, 33, 34, 45, 46]


def vectors(rng: np.random.Generator, n_random: int = 1500) -> tuple[np.ndarray, ...]:
    corners = np.array(list(itertools.product(ACC_CORNERS, M_CORNERS, S_CORNERS)), np.int64)
    mag = np.exp2(rng.uniform(0, 31, n_random))
    acc = np.clip(np.rint(mag * rng.choice([-1, 1], n_random)), -(2**31), 2**31 - 1)
    rand = np.stack([acc, rng.integers(1, 2**15, n_random, endpoint=True),
                     rng.integers(0, 46, n_random, endpoint=True)], axis=1).astype(np.int64)
    allv = np.concatenate([corners, rand])
    allv = allv[: len(allv) // LANES * LANES]
    return allv[:, 0], allv[:, 1], allv[:, 2]


def simulate(build_root, tmp_path, dtype: str, zp: int, relu: bool, acc, m, s,
             unit_m: bool = False) -> np.ndarray:
    width = 32 if dtype == "int32" else 8
    built = runner.build("requantiser", ["hccr_pkg", "requantiser"], {
        "LANES": LANES, "OUT_W": width, "OUT_SIGNED": dtype != "uint8", "OUT_ZP": zp,
        "RELU": relu, "USER_W": 16, "UNIT_M": unit_m}, root=build_root)
    t = len(acc) // LANES
    got = run_vectors(built, tmp_path, {
        "valid_i": [1] * t,
        "acc_i": pack_lanes(acc.reshape(t, LANES), 32),
        "mult_i": pack_lanes(m.reshape(t, LANES), 16),
        "shift_i": pack_lanes(s.reshape(t, LANES), 6),
        "user_i": list(range(t))}, ["y_o", "user_o"])
    assert got["user_o"] == list(range(t)), "results out of order or lost"
    return unpack_lanes(got["y_o"], LANES, width, dtype != "uint8").reshape(-1)


@pytest.mark.parametrize(("dtype", "zp", "relu"), [
    ("int8", 0, False), ("int8", -5, True), ("uint8", 128, False), ("uint8", 17, True),
    ("int32", 3, False), ("int32", -100, True)])
def test_requantiser_bit_exact(dtype: str, zp: int, relu: bool, rng, tmp_path, build_root) -> None:
    acc, m, s = vectors(rng)
    spec = ir.TensorSpec("y", (1, 1, 1), dtype, 1.0, zp)
    want = golden.saturate(golden.requantize(acc, m, s), spec, relu).astype(np.int64)
    got = simulate(build_root, tmp_path, dtype, zp, relu, acc, m, s)
    problem = first_mismatch(want[None], got[None], name=f"requantiser {dtype} zp={zp} relu={relu}")
    assert problem is None, problem
    # Both saturation sides are exercised (the ReLU's side is the zero point).
    lo = zp if relu else spec.lo
    assert (want == lo).any() and (want == spec.hi).any()
    # Negative check: one corrupted golden value must be caught and located.
    bad = want.copy()
    bad[123] += 1
    assert "element [123]" in (first_mismatch(bad[None], got[None]) or "")


@pytest.mark.parametrize(("dtype", "zp"), [("int8", -3), ("int32", 0)])
def test_unit_m_requantises_with_m_1_whatever_mult_i_says(dtype: str, zp: int, rng, tmp_path,
                                                         build_root) -> None:
    """UNIT_M = 1 is requantize(acc, 1, s) for every lane, with random values on mult_i; int32
    out (the layer-sequential engine's use) sees every shift, past its 34-bit datapath too."""
    acc, m, s = vectors(rng)
    spec = ir.TensorSpec("y", (1, 1, 1), dtype, 1.0, zp)
    want = golden.saturate(golden.requantize(acc, np.ones_like(m), s), spec, False)
    got = simulate(build_root, tmp_path, dtype, zp, False, acc, m, s, unit_m=True)
    problem = first_mismatch(want.astype(np.int64)[None], got[None], name="requantiser UNIT_M")
    assert problem is None, problem
    assert set(S_CORNERS) <= set(s.tolist())
    assert (m != 1).mean() > 0.9  # mult_i really carried other values


@pytest.mark.synth
@pytest.mark.slow
def test_unit_m_takes_no_dsp(tmp_path) -> None:
    """synth_xilinx -family xc7: 4 lanes of acc·M take 8 DSP48E1s (32 × 17 bits: two each);
    with UNIT_M none."""
    from hw.synth import synth_xilinx

    dsps = {unit: synth_xilinx("requantiser", ["hccr_pkg", "requantiser"],
                               {"LANES": 4, "UNIT_M": unit},
                               tmp_path / f"unit{int(unit)}").dsps for unit in (False, True)}
    assert dsps == {False: 8, True: 0}, dsps
