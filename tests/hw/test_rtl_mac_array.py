"""mac_array.sv vs NumPy: dot products of random lengths with bubbles, extreme operands,
and accumulators driven close to both int32 limits."""

from __future__ import annotations

import numpy as np
import pytest

from sim import runner
from sim.compare import first_mismatch
from sim.vectors import pack_lanes, run_vectors, unpack_lanes

pytestmark = pytest.mark.rtl


def groups(rng: np.random.Generator, pe: int, simd: int, lo: int, hi: int, zp: int,
           n: int, long: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """(x [T, SIMD], w [T, PE, SIMD]) per dot product: random, extreme, and (optionally) two
    long ones whose sums approach +2^31 and -2^31."""
    out = []
    for i in range(n):
        t = int(rng.integers(1, 13))
        x = rng.integers(lo, hi, (t, simd), endpoint=True)
        w = rng.integers(-128, 127, (t, pe, simd), endpoint=True)
        if i % 5 == 1:  # extreme operands
            x = rng.choice([lo, hi], (t, simd))
            w = rng.choice([-128, 127], (t, pe, simd))
        out.append((x, w))
    if long:
        far = hi if hi - zp >= zp - lo else lo  # x whose |x - zp| is largest
        per = abs(far - zp) * 128 * simd
        t = (2**31 - 1) // per
        for sign in (1, -1):  # w with the sign that makes every product's sign `sign`
            w = 127 if sign * (far - zp) > 0 else -128
            out.append((np.full((t, simd), far), np.full((t, pe, simd), w)))
    return out


def expected(gs: list[tuple[np.ndarray, np.ndarray]], zp: int) -> np.ndarray:
    return np.array([np.einsum("ts,tps->p", (x - zp).astype(np.int64), w.astype(np.int64))
                     for x, w in gs], dtype=np.int64)


@pytest.mark.parametrize(("pe", "simd", "dtype", "zp", "long"), [
    (1, 1, "int8", 0, False), (3, 4, "uint8", 255, False), (2, 8, "int8", -128, True),
    (4, 3, "uint8", 128, False)])
def test_mac_array_bit_exact(pe: int, simd: int, dtype: str, zp: int, long: bool, rng,
                             tmp_path, build_root) -> None:
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    built = runner.build("mac_array", ["mac_array"], {
        "PE": pe, "SIMD": simd, "IN_SIGNED": dtype == "int8", "IN_ZP": zp, "USER_W": 16},
        root=build_root)
    gs = groups(rng, pe, simd, lo, hi, zp, 60, long)
    want = expected(gs, zp)
    assert np.abs(want).max() < 2**31
    if long:
        assert want.max() > 2**31 - 2**25 and want.min() < -(2**31) + 2**25
    cols: dict[str, list[int]] = {k: [] for k in ("valid_i", "first_i", "last_i", "x_i", "w_i",
                                                    "user_i")}
    for g, (x, w) in enumerate(gs):
        xs, ws = pack_lanes(x, 8), pack_lanes(w.reshape(len(w), -1), 8)
        for t in range(len(x)):
            if rng.random() < 0.2:  # a bubble: valid low, garbage data
                for k, v in (("valid_i", 0), ("first_i", 1), ("last_i", 1), ("x_i", 0x5A),
                             ("w_i", 0x77), ("user_i", 0xFFFF)):
                    cols[k].append(v)
            for k, v in (("valid_i", 1), ("first_i", int(t == 0)),
                         ("last_i", int(t == len(x) - 1)), ("x_i", xs[t]), ("w_i", ws[t]),
                         ("user_i", g)):
                cols[k].append(v)
    got = run_vectors(built, tmp_path, cols, ["acc_o", "user_o"])
    assert got["user_o"] == list(range(len(gs))), "dot products lost, repeated or reordered"
    acc = unpack_lanes(got["acc_o"], pe, 32, True)
    problem = first_mismatch(want[None], acc[None], name="mac_array")
    assert problem is None, problem
