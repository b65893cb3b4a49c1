"""hw.gen.engines: ROM word layout, parameters and folding errors (no simulation)."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import single_op

from hw.gen.engines import (
    Folding,
    FoldingError,
    engine_for,
    param_words,
    weight_words,
    write_mem,
)


def test_weight_words_follow_the_documented_layout(rng) -> None:
    kh, kw, cin, cout, pe, simd = 2, 3, 4, 6, 3, 2
    w = rng.integers(-128, 128, (kh, kw, cin, cout)).astype(np.int8)
    words = weight_words(w, pe, simd)
    sf = kh * kw * cin // simd
    assert len(words) == cout // pe * sf
    for nf in range(cout // pe):
        for ky in range(kh):
            for kx in range(kw):
                for cw in range(cin // simd):
                    word = words[nf * sf + (ky * kw + kx) * (cin // simd) + cw]
                    for p in range(pe):
                        for s in range(simd):
                            lane = (word >> (8 * (p * simd + s))) & 0xFF
                            assert np.int8(np.uint8(lane)) == w[ky, kx, cw * simd + s,
                                                                nf * pe + p]


def test_param_words_pack_bias_multiplier_shift() -> None:
    words = param_words(np.array([-1, 5], np.int32), np.array([32768, 1], np.int32),
                        np.array([46, 0], np.int32), pe=2)
    assert words == [(46 << 48 | 32768 << 32 | 0xFFFFFFFF) | (1 << 32 | 5) << 54]


def test_write_mem_pads_hex_digits(tmp_path) -> None:
    path = write_mem(tmp_path / "a.mem", [1, 0x1234], 54)
    assert path.read_text() == "00000000000001\n00000000001234\n"


def test_folding_must_divide(rng) -> None:
    model = single_op("conv2d", rng, shape=(4, 4, 4), cout=6, kernel=(3, 3), stride=(1, 1),
                      padding=(1, 1, 1, 1))
    with pytest.raises(FoldingError, match="y: PE=4 does not divide OC=6"):
        engine_for(model.ops[0], model, Folding(4, 1))
    with pytest.raises(FoldingError, match="y: SIMD=3 does not divide IC=4"):
        engine_for(model.ops[0], model, Folding(1, 3))


def test_op_without_engine_names_the_layer_and_why(rng) -> None:
    model = single_op("reshape", rng)
    with pytest.raises(FoldingError, match=r"^y: op reshape has no RTL engine \(wiring: "):
        engine_for(model.ops[0], model)


def test_conv_cycles_formula(rng) -> None:
    model = single_op("conv2d", rng, shape=(8, 8, 4), cout=6, kernel=(3, 3), stride=(1, 1),
                      padding=(1, 1, 1, 1))
    eng = engine_for(model.ops[0], model, Folding(3, 2))
    assert eng.cycles == (6 // 3) * (4 * 9 // 2) * 8 * 8
