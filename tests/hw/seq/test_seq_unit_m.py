"""The shift-only engine (`EngineConfig.unit_m`, RTL parameter UNIT_M): the compiler refuses
an op whose requantiser needs M ≠ 1, the header says what the program was compiled for, and
the engine refuses a program made for one with multipliers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import test_seq_engine as tse

from base.errors import HccrError
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import PRODUCT_STAGE_M
from hw.gen.seq.isa import Header
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from tests.ir_factory import random_batch, single_op

SHIFT_ONLY = dataclasses.replace(tse.CONFIG, unit_m=True)


def with_unit_m(model: ir.Model) -> ir.Model:
    """`model` with the requantiser multiplier of every op set to 1 (not those the vector
    unit's product stage applies)."""
    ops = [op if op.kind in PRODUCT_STAGE_M or not hasattr(op, "multiplier") else
           dataclasses.replace(op, multiplier=np.ones_like(op.multiplier)
                               if isinstance(op.multiplier, np.ndarray) else 1)
           for op in model.ops]
    return dataclasses.replace(model, ops=tuple(ops))


@pytest.mark.parametrize("kind", ["conv2d", "mul", "avgpool"])
def test_an_op_that_needs_a_multiplier_is_refused_by_name(kind: str, rng) -> None:
    model = single_op(kind, rng)
    op = model.ops[0]
    if (np.asarray(op.multiplier) == 1).all():
        pytest.skip("the random op drew M = 1 everywhere")
    with pytest.raises(HccrError, match=rf"^{op.name}: {kind} multiplier"):
        compile_model(model, SHIFT_ONLY)
    assert compile_model(model, tse.CONFIG).header.unit_m == 0


@pytest.mark.parametrize("kind", ["conv2d", "mul", "requant", "add", "prelu"])
def test_a_power_of_two_op_compiles_shift_only_and_is_bit_exact(kind: str, rng) -> None:
    """REQUANT, ADD and PRELU keep any M: the vector unit's product stage takes it."""
    model = with_unit_m(single_op(kind, rng))
    program = compile_model(model, SHIFT_ONLY)
    assert program.header.unit_m == 1
    assert Header.decode(program.header.encode()) == program.header
    assert check_program(model, program, random_batch(model, rng, 2)).first_mismatch is None


@pytest.mark.rtl
@pytest.mark.slow
def test_the_shift_only_engine_runs_its_programs_and_refuses_others(
        rng, seed, tmp_path, build_root, monkeypatch) -> None:
    monkeypatch.setattr(tse, "PARAMS", {**tse.PARAMS, "UNIT_M": 1})
    model = with_unit_m(single_op("conv2d", rng, shape=(5, 5, 4), kernel=(3, 3), cout=9,
                                  in_dtype="int8", out_dtype="int8"))
    feeds = random_batch(model, rng, 2)
    program = compile_model(model, SHIFT_ONLY, 2)
    raw, result = tse.simulate(program, pack_inputs(program, feeds), 2, tmp_path / "ok",
                               build_root, seed)
    assert result["error_code"] == 0 and result["images_done"] == 2, result
    assert np.array_equal(unpack_outputs(program, raw, 2)["y"], golden.run(model, feeds)["y"])
    general = compile_model(model, tse.CONFIG, 2)
    _, result = tse.simulate(general, pack_inputs(general, feeds), 2, tmp_path / "bad",
                             build_root, seed)
    assert result["error_code"] == tse.CODES["BAD_INSTRUCTION"] and result["images_done"] == 0
