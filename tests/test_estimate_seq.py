"""The layer-sequential engine's estimate (hw/estimate/sequential.py): DSPs and block RAMs
counted by hand and equal to every Yosys run of the whole engine, LUT/FF within ±10 % of
them, the fit reproducible from the committed points, speed from the compiled program, the
device's plan the largest array within its cap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_estimate import chain

from base.errors import HccrError
from hw.boards import board
from hw.devices import device
from hw.estimate.calibrate_seq import fit
from hw.estimate.cost import memory_cost
from hw.estimate.sequential import (
    _arrays,
    dsps,
    engine_cost,
    load_calibration,
    memories,
    plan_config,
    plan_sequential,
    sized_config,
)
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.config import BRAM18_ROWS, EngineConfig, board_config

SEQ = load_calibration()


def test_dsps_by_hand() -> None:
    # PE 4 × SIMD 8: 8 packed multipliers per PE pair (16), acc·M of 4 + 8 requantiser lanes
    # at 2 each (24), 8 vector-unit products, 14 fixed-width address products and the exit
    # unit's 32 × 32 score product (4 DSP48E1s: 2 × 2 pieces of 25 × 18)
    assert dsps(EngineConfig(pe=4, simd=8)) == 16 + 24 + 8 + 14 + 4 == 66
    # an odd PE lane takes SIMD multipliers of its own
    assert dsps(EngineConfig(pe=5, simd=8)) == 8 * 3 + 2 * 13 + 8 + 18
    # shift-only: no requantiser multipliers (PE 16 × SIMD 16: 128 packed, 16 vector lanes)
    assert dsps(EngineConfig(pe=16, simd=16, unit_m=True)) == 128 + 16 + 18


def test_block_rams_by_hand() -> None:
    # pynq-z2, PE 4 × SIMD 8: 449,536 activation bytes in 8 banks of 56,192 rows × 8 bits,
    # 14 RAMB36 each (4K × 9); two 64 KiB tiles in 4 lanes of 4,096 × 64 bits, 8 RAMB36 each
    # (512 × 72); 1024 / 8 = 128 rows of accumulators (× 32) and parameters (× 22) per vector
    # lane, one RAMB18 each, the parameters twice (read in two pipeline stages); the 256 × 64
    # exit table, one RAMB36 (512 × 72)
    cfg = board_config(board("pynq-z2"), 4, 8, act_bytes=449_536)
    cost = memory_cost(memories(cfg))
    assert (cost.ramb36, cost.ramb18) == (8 * 14 + 4 * 8 + 1, 8 * 3)
    # SIMD 16: 64 rows per vector lane fit one RAM64M deep: distributed RAM, no block RAM;
    # 16 banks of 28,096 rows (7 RAMB36), 16 tile lanes of 1,024 × 64 (2 RAMB36 each)
    cost = memory_cost(memories(board_config(board("pynq-z2"), 8, 16, act_bytes=449_536)))
    assert (cost.ramb36, cost.ramb18) == (16 * 7 + 16 * 2 + 1, 0)


@pytest.mark.parametrize(("pe", "simd", "tiles"), [(16, 16, 32), (12, 32, 48), (6, 64, 48)])
def test_board_config_buffers_fit_the_block_ram(pe, simd, tiles) -> None:
    # xc7z020: 90 % of 140 RAMB36 = 126; the tile buffers take `tiles` (one 512 × 72 per
    # lane), the activation banks whole RAMB18s (2K × 9, 2 KiB of bytes) of the rest
    cfg = board_config(board("pynq-z2"), pe, simd)
    ramb18s_per_bank = int(2 * (126 - tiles)) // simd
    assert cfg.act_bytes == ramb18s_per_bank * 2048 * simd
    assert memory_cost(memories(cfg)).bram36 <= 126 + 1  # + the exit table


def test_board_config_of_a_large_device_stops_at_the_address_space() -> None:
    assert board_config(board("zc706"), 6, 64).act_bytes == 1 << 20


@pytest.mark.parametrize("point", SEQ.points, ids=lambda p: "pe{pe}-simd{simd}".format(
    **p["config"]) + ("-heldout" if p["heldout"] else ""))
def test_counts_equal_yosys_and_fit_within_10_percent(point) -> None:
    cost = engine_cost(EngineConfig(**point["config"]), SEQ)
    got = point["synth"]
    assert cost.dsp == got["dsp"]
    assert (cost.ramb36, cost.ramb18) == (got["ramb36"], got["ramb18"])
    assert cost.lut == pytest.approx(got["lut"], rel=0.10)
    assert cost.ff == pytest.approx(got["ff"], rel=0.10)


def test_fit_is_reproducible_from_the_committed_points() -> None:
    assert any(p["heldout"] for p in SEQ.points)
    assert fit(SEQ.points, SEQ.requantiser) == SEQ.fit


def test_plan_speed_and_ddr_are_the_compiled_programs() -> None:
    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    cfg = EngineConfig(pe=4, simd=8, act_bytes=64 * 1024, tile_bytes=16 * 1024)
    seq = plan_config(model, board("pynq-z2"), cfg, calib=SEQ)
    choice = choose_batch(model, cfg)
    h = choice.program.header
    assert seq.cycles == choice.cycles_per_image and seq.batch == h.batch
    assert seq.images_per_s == pytest.approx(200e6 / seq.cycles)
    macs = 1024 * 9 * 16 + 256 * 144 * 32 + 2048 * 100  # conv0, conv1, fc
    assert seq.macs == macs
    assert seq.array_efficiency == pytest.approx(macs / (32 * seq.cycles))
    doc = seq.as_json()
    assert doc["ddr_bytes_per_image"] == round(h.data_bytes / h.batch + h.input_bytes
                                               + h.output_bytes)
    assert doc["board"] == "pynq-z2" and doc["measured"] is None
    assert sum(c for _, _, c in seq.op_rows()) == pytest.approx(seq.cycles * seq.batch)


def test_a_synthesised_configuration_reports_its_yosys_counts() -> None:
    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    point = SEQ.points[0]
    seq = plan_config(model, board("pynq-z2"), EngineConfig(**point["config"]), calib=SEQ)
    assert seq.measured == point["synth"]


def test_plan_is_the_largest_array_within_the_cap() -> None:
    """xc7z020 at 80 %: the plan fits, every array with more MAC lanes breaks the cap, and
    one more RAMB18 step of activation rows per bank would overflow the block RAM."""
    model = chain(np.random.default_rng(3), 32, (16, 32), 3755)
    z020 = device("xc7z020")
    seq = plan_sequential(model, z020, 200, 0.8, SEQ)
    cfg = seq.config
    assert seq.board.name == "pynq-z2" and not seq.overflows()
    assert seq.cost.dsp <= 0.8 * 220 and seq.cost.bram36 <= 0.8 * 140
    for pe, simd in _arrays():
        if pe * simd <= cfg.pe * cfg.simd:
            break
        bigger = sized_config(seq.board, pe, simd, 0.8 * 140, 200, SEQ)
        if bigger is not None:
            cost = engine_cost(bigger, SEQ)
            assert (cost.dsp > 0.8 * 220 or cost.lut > 0.8 * z020.lut
                    or cost.ff > 0.8 * z020.ff)
    more = dataclasses.replace(cfg, act_bytes=cfg.act_bytes + BRAM18_ROWS * cfg.simd)
    assert engine_cost(more, SEQ).bram36 > 0.8 * 140 or more.act_bytes > 1 << 20


def test_a_device_without_a_board_gets_no_plan() -> None:
    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    assert plan_sequential(model, device("xczu3eg"), 200, 0.8, SEQ) is None


def test_a_network_no_engine_runs_is_a_named_error() -> None:
    # fc reads 128 × 128 × 32 = 512 KiB per output channel: no 64 KiB weight tile holds one
    model = chain(np.random.default_rng(3), 256, (32,), 10)
    with pytest.raises(HccrError, match="no layer-sequential engine on pynq-z2 runs chain: "
                                        "fc: one weight tile"):
        plan_sequential(model, device("xc7z020"), 200, 0.8, SEQ)
