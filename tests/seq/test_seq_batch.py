"""Boards' DDR and the batch choice of the layer-sequential engine."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import make_op, random_batch, random_spec, single_op

from base.errors import HccrError
from hw.boards import board
from hw.devices import DeviceError
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import BAND, compile_model, compile_options
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import image_cycles
from quant import ir


def test_board_ddr_is_the_memory_not_the_ports():
    # 16 bit × 1050 MT/s × 75 % and 32 bit × 1066 MT/s × 75 %
    assert board("PYNQ-Z2").ddr_gb_s == pytest.approx(2 * 1050e6 * 0.75 / 1e9)
    assert board("zedboard").ddr_gb_s == pytest.approx(4 * 1066e6 * 0.75 / 1e9)
    assert board("zedboard").ddr_bytes_per_cycle(200) == pytest.approx(3.198e9 / 200e6)
    assert board("pynq-z2").device.name == "xc7z020"
    with pytest.raises(DeviceError, match="unknown board 'kc705'"):
        board("kc705")


def _dense(rng: np.random.Generator) -> object:
    return single_op("dense", rng, shape=(1, 1, 64), cout=64, in_dtype="int8",
                     out_dtype="int8")


def test_a_ddr_bound_network_takes_a_batch_that_fits():
    rng = np.random.default_rng(0)
    model = _dense(rng)  # 4 KB of weights, one MAC cycle per tile per image: DDR-bound
    slow = EngineConfig(pe=8, simd=64, ddr_bytes_per_cycle=1.0, act_bytes=10 * 64)
    choice = choose_batch(model, slow)
    # every image costs 2·64 bytes of activations (regions rounded to 8): 10·64 B hold 5
    assert choice.program.header.batch == 5
    assert choice.program.header.act_bytes <= slow.act_bytes
    single = choose_batch(model, slow, max_batch=1)
    assert choice.cycles_per_image < single.cycles_per_image
    h = choice.program.header
    assert choice.ddr_bytes_per_image == h.data_bytes / 5 + h.input_bytes + h.output_bytes


def test_a_compute_bound_network_keeps_batch_one():
    rng = np.random.default_rng(1)
    model = single_op("conv2d", rng, shape=(32, 32, 64), cout=8, kernel=(3, 3), stride=(1, 1),
                      padding=(1, 1, 1, 1), in_dtype="int8", out_dtype="int8")
    fast = EngineConfig(pe=8, simd=64, ddr_bytes_per_cycle=64, ddr_latency=0)
    assert choose_batch(model, fast).program.header.batch == 1


def test_nothing_fits_names_the_op():
    rng = np.random.default_rng(2)
    with pytest.raises(HccrError, match=r"^y: the live activations"):
        choose_batch(_dense(rng), EngineConfig(act_bytes=64))


def _chain_then_dense(rng: np.random.Generator) -> ir.Model:
    """32×32 conv → PReLU → 2×2 max pool → dense 2048 → 32: large early maps, then 64 KB of
    weights that a batch shares."""
    tensors = [random_spec(rng, "x", (32, 32, 1), "uint8")]
    ops = []
    for kind, params in [
            ("conv2d", {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "cout": 8,
                        "out_dtype": "int8"}),
            ("prelu", {"out_dtype": "int8"}),
            ("maxpool", {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0, 0, 0)}),
            ("dense", {"cout": 32, "out_dtype": "int8"})]:
        op, out = make_op(kind, rng, f"{kind}{len(ops)}", [tensors[-1]], **params)
        ops.append(op)
        tensors.append(out)
    return ir.Model("chain_dense", {t.name: t for t in tensors}, tuple(ops), ("x",),
                    (tensors[-1].name,))


def _banded(program) -> bool:
    return any(BAND in t for ins in program.instructions for t in ins.produces)


def test_row_bands_chosen_where_they_let_a_batch_share_its_weights():
    rng = np.random.default_rng(3)
    model = _chain_then_dense(rng)
    cfg = EngineConfig(pe=4, simd=8, act_bytes=20480, ddr_bytes_per_cycle=1.0)
    # whole, the conv's 16 KB of maps leave no room for a second image: every batch reads
    # the dense weights once per image; in bands, 8 images share one read
    whole = [compile_model(model, cfg, b) for b in (1, 2, 4, 8)]
    assert not any(_banded(p) for p in whole)
    plain, banded = compile_options(model, cfg, 8)
    assert _banded(banded) and not _banded(plain)
    choice = choose_batch(model, cfg, max_batch=8)
    assert choice.program.header.batch == 8 and _banded(choice.program)
    assert choice.cycles_per_image < min(image_cycles(p) for p in whole) / 3
    result = check_program(model, choice.program, random_batch(model, rng, 10))
    assert result.bit_exact == 10, result.summary()
