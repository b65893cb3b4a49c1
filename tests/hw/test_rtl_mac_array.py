"""mac_array.sv vs NumPy: dot products of random lengths with bubbles, extreme operands,
and accumulators driven close to both int32 limits; with PACK (two products per multiplier)
every input value against corner weight pairs, packed and unpacked builds; the adder tree cut
into 2^c parts (SEGMENTS), c changing between dot products; Yosys maps the packed array onto
half the DSP48E1s, with or without the cut."""

from __future__ import annotations

import numpy as np
import pytest

from hw.synth import synth_xilinx
from quant.compare import first_mismatch
from sim import runner
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


def build(pe: int, simd: int, dtype: str, zp: int, pack: bool, root, segments: int = 1
          ) -> runner.Build:
    return runner.build("mac_array", ["hccr_pkg", "mac_array"], {
        "PE": pe, "SIMD": simd, "IN_SIGNED": dtype == "int8", "IN_ZP": zp, "USER_W": 16,
        "PACK": pack, "SEGMENTS": segments}, root=root)


def run_groups(built: runner.Build, gs: list[tuple[np.ndarray, np.ndarray]], pe: int,
               rng: np.random.Generator | None, directory, segments: int = 1,
               cuts: list[int] | None = None) -> np.ndarray:
    """Feed the dot products one after another (with random bubbles when `rng` is given), the
    g-th with the tree cut in 2^cuts[g] parts; returns the accumulators `[len(gs),
    PE·SEGMENTS]`, checked to come back once each, in order."""
    cuts = cuts or [0] * len(gs)
    cols: dict[str, list[int]] = {k: [] for k in ("valid_i", "first_i", "last_i", "x_i", "w_i",
                                                    "user_i", "cut_i")}
    for g, (x, w) in enumerate(gs):
        xs, ws = pack_lanes(x, 8), pack_lanes(w.reshape(len(w), -1), 8)
        for t in range(len(x)):
            if rng is not None and rng.random() < 0.2:  # a bubble: valid low, garbage data
                for k, v in (("valid_i", 0), ("first_i", 1), ("last_i", 1), ("x_i", 0x5A),
                             ("w_i", 0x77), ("user_i", 0xFFFF), ("cut_i", 7)):
                    cols[k].append(v)
            for k, v in (("valid_i", 1), ("first_i", int(t == 0)),
                         ("last_i", int(t == len(x) - 1)), ("x_i", xs[t]), ("w_i", ws[t]),
                         ("user_i", g & 0xFFFF), ("cut_i", cuts[g])):
                cols[k].append(v)
    got = run_vectors(built, directory, cols, ["acc_o", "user_o"])
    assert got["user_o"] == [g & 0xFFFF for g in range(len(gs))], \
        "dot products lost, repeated or reordered"
    return unpack_lanes(got["acc_o"], pe * segments, 32, True)


@pytest.mark.parametrize(("pe", "simd", "dtype", "zp", "long", "pack"), [
    (1, 1, "int8", 0, False, False), (3, 4, "uint8", 255, False, False),
    (2, 8, "int8", -128, True, False), (4, 3, "uint8", 128, False, False),
    (2, 8, "int8", -128, True, True), (3, 4, "uint8", 255, False, True),
    (4, 3, "int8", 127, False, True), (1, 2, "uint8", 0, False, True)])
def test_mac_array_bit_exact(pe: int, simd: int, dtype: str, zp: int, long: bool, pack: bool,
                             rng, tmp_path, build_root) -> None:
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    built = build(pe, simd, dtype, zp, pack, build_root)
    gs = groups(rng, pe, simd, lo, hi, zp, 60, long)
    want = expected(gs, zp)
    assert np.abs(want).max() < 2**31
    if long:
        assert want.max() > 2**31 - 2**25 and want.min() < -(2**31) + 2**25
    acc = run_groups(built, gs, pe, rng, tmp_path)
    problem = first_mismatch(want[None], acc[None], name="mac_array")
    assert problem is None, problem


def expected_cut(gs: list[tuple[np.ndarray, np.ndarray]], zp: int, segments: int,
                 cuts: list[int]) -> np.ndarray:
    """`[len(gs), PE·SEGMENTS]`: slot p·SEGMENTS + j holds PE p's sum over the j-th of 2^c
    equal runs of lanes (c = the dot product's cut), 0 for j ≥ 2^c."""
    out = []
    for (x, w), c in zip(gs, cuts, strict=True):
        pe, simd = w.shape[1:]
        runs = (x - zp).reshape(len(x), 2**c, simd >> c).astype(np.int64)
        part = np.einsum("tjs,tpjs->pj", runs, w.reshape(len(w), pe, 2**c, simd >> c))
        slots = np.zeros((pe, segments), dtype=np.int64)
        slots[:, :2**c] = part
        out.append(slots.reshape(-1))
    return np.array(out)


@pytest.mark.parametrize(("pe", "simd", "segments", "dtype", "zp", "pack"), [
    (3, 8, 4, "int8", -5, True), (2, 12, 4, "uint8", 200, False), (2, 16, 16, "int8", 0, True)])
def test_mac_array_cut_tree_bit_exact(pe: int, simd: int, segments: int, dtype: str, zp: int,
                                      pack: bool, rng, tmp_path, build_root) -> None:
    """Random and extreme dot products, each with a random cut 0..log2(SEGMENTS) (c = 0 is
    the whole tree), against sums over each part's lanes."""
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    built = build(pe, simd, dtype, zp, pack, build_root, segments)
    gs = groups(rng, pe, simd, lo, hi, zp, 60, False)
    cuts = [int(c) for c in rng.integers(0, segments.bit_length(), len(gs))]
    assert set(cuts) == set(range(segments.bit_length()))
    acc = run_groups(built, gs, pe, rng, tmp_path, segments, cuts)
    problem = first_mismatch(expected_cut(gs, zp, segments, cuts)[None], acc[None],
                             name=f"mac_array SEGMENTS={segments}")
    assert problem is None, problem


# Weight corners of a packed pair: both extremes, around zero (the low product's sign decides
# the correction) and next to the extremes.
W_CORNERS = (-128, -127, -2, -1, 0, 1, 2, 126, 127)


@pytest.mark.parametrize(("dtype", "zp"), [("int8", -128), ("uint8", 255), ("int8", 0)])
def test_mac_array_packed_corners(dtype: str, zp: int, tmp_path, build_root) -> None:
    """Every input value x times every pair of corner weights (w_lo, w_hi), one product per
    dot product (SIMD = 1, PE = 2: one packed multiplier), packed and unpacked builds, each
    equal to x - zp times w. The zero points reach x - zp = +255 and -255, the extremes."""
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    xs, w_lo, w_hi = np.meshgrid(np.arange(lo, hi + 1), W_CORNERS, W_CORNERS, indexing="ij")
    xs, ws = xs.reshape(-1, 1, 1), np.stack([w_lo, w_hi], -1).reshape(-1, 1, 2, 1)
    gs = list(zip(xs, ws, strict=True))
    want = expected(gs, zp)
    assert np.abs(want).max() == max(hi - zp, zp - lo) * 128  # |x - zp| and |w| extreme
    for pack in (False, True):
        acc = run_groups(build(2, 1, dtype, zp, pack, build_root), gs, 2, None,
                         tmp_path / f"pack{int(pack)}")
        problem = first_mismatch(want[None], acc[None], name=f"mac_array PACK={int(pack)}")
        assert problem is None, problem


@pytest.mark.synth
@pytest.mark.slow
def test_packing_halves_the_dsps(tmp_path) -> None:
    """synth_xilinx -family xc7: PE = 4, SIMD = 2 takes 8 DSP48E1s unpacked, 4 packed, and
    4 packed with the tree cut in up to 2 parts (the cut adds adders, not multipliers)."""
    counts = {}
    for pack, segments in ((False, 1), (True, 1), (True, 2)):
        result = synth_xilinx("mac_array", ["hccr_pkg", "mac_array"], {
            "PE": 4, "SIMD": 2, "IN_SIGNED": False, "IN_ZP": 3, "PACK": pack,
            "SEGMENTS": segments}, tmp_path / f"pack{int(pack)}_{segments}")
        counts[pack, segments] = result.dsps
        print(f"mac_array PE=4 SIMD=2 PACK={int(pack)} SEGMENTS={segments}: "
              f"{result.dsps} DSP48E1, {result.luts} LUTs")
    assert counts == {(False, 1): 8, (True, 1): 4, (True, 2): 4}, counts
