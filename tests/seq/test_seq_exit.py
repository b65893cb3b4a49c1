"""EXIT on the layer-sequential engine's program model: (class, exit point) per image equal to
golden's exit rule on random cascades with exits at every point, skipped work not run, the
timing contract's cycles per batch, and the driver on the emulator."""

from __future__ import annotations

import numpy as np
import pytest

from hw.gen.seq import exits
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import batch_cycles, walk_cycles
from hw.gen.seq.emulator import Emulator
from hw.gen.seq.executor import decode, execute
from hw.gen.seq.isa import Opcode
from hw.gen.seq.records import pack_inputs
from hw.seq_driver import EXIT_CLASS, EXIT_POINT, SeqEngine
from quant import golden
from tests.cascade_factory import cascade, with_exits

CONFIG = EngineConfig(pe=4, simd=8, act_bytes=16384, tile_bytes=2048)


def run(program, x: np.ndarray, skip: bool = True, hook=None) -> tuple[np.ndarray, np.ndarray]:
    raw = execute(program.encode(), program.data, pack_inputs(program, x), len(x), hook=hook,
                  skip=skip)
    offset = exits.result_offset(program.instructions)
    return exits.unpack_results(raw, program.header.output_bytes, offset, len(x))


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("mid_b", ["average", "exit"])
@pytest.mark.parametrize("seed", [0, 2])
def test_exits_equal_golden(seed: int, mid_b: str, batch: int) -> None:
    rng = np.random.default_rng(seed)
    model, x = with_exits(cascade(rng), rng, mid_b)
    classes, points, _ = golden.run_exits(model, x)
    assert (np.bincount(points, minlength=len(model.exits)) >= 5).all(), np.bincount(points)
    program = compile_model(model, CONFIG, batch)
    assert [i["point"] for i in program.instructions if i.opcode == Opcode.EXIT] == list(
        range(len(model.exits)))
    got_classes, got_points = run(program, x)
    np.testing.assert_array_equal(got_points, points)
    np.testing.assert_array_equal(got_classes, classes)


def test_exited_images_skip_the_rest() -> None:
    """Batch 1: an image that leaves at point i runs no MAC of a later stage; the contract's
    cycles grow with the exit point and equal the sum over the instructions run."""
    rng = np.random.default_rng(2)
    model, x = with_exits(cascade(rng), rng, "exit")
    _, points, _ = golden.run_exits(model, x)
    program = compile_model(model, CONFIG, 1)
    ran: dict[int, set[str]] = {}
    run(program, x, hook=lambda index, image, act: ran.setdefault(image, set()).add(
        program.instructions[index].op))
    stages = golden.exit_stages(model)
    for image, point in enumerate(points):
        later = {op.name for stage in stages[point + 1:] for op in stage}
        assert not ran[image] & later, (image, point)
        assert {op.name for op in stages[point]} <= ran[image]
    _, body = decode(program.encode())
    every = walk_cycles(body, CONFIG, [(i, 1) for i in range(len(body))])
    full = sum(c for ins, c in zip(body, every, strict=True) if ins.opcode != Opcode.EXIT)
    per_point = [batch_cycles(body, CONFIG, [p]) for p in range(len(model.exits))]
    assert per_point == sorted(per_point) and per_point[0] < full
    exit_cost = [c for ins, c in zip(body, every, strict=True) if ins.opcode == Opcode.EXIT]
    assert per_point[-1] == full + sum(exit_cost)


def test_batch_runs_until_every_image_left() -> None:
    """Batch 3: a batch stops at the latest exit among its images; each image keeps its
    first passing exit."""
    rng = np.random.default_rng(0)
    model, _ = with_exits(cascade(rng), rng, "exit")
    program = compile_model(model, CONFIG, 3)
    _, body = decode(program.encode())
    walk = exits.executed(body, [0, 2, 0])
    exit_images = [(body[i]["point"], n) for i, n in walk if body[i].opcode == Opcode.EXIT]
    assert exit_images == [(0, 3), (1, 1), (2, 1)]
    assert [body[i].opcode for i, _ in exits.executed(body, [0, 0, 0])][-2:] == [
        Opcode.STORE, Opcode.END]


def test_every_tensor_still_equals_golden() -> None:
    rng = np.random.default_rng(2)
    model, x = with_exits(cascade(rng), rng, "average", n=20)
    result = check_program(model, compile_model(model, CONFIG, 2), x)
    assert result.first_mismatch is None and result.bit_exact == len(x), result


def test_no_exit_record_is_an_error() -> None:
    raw = np.zeros((2, 16), np.uint8)
    raw[0, 8:12] = [3, 0, 1, 1]
    with pytest.raises(ValueError, match=r"images \[1\]"):
        exits.unpack_results(raw.tobytes(), 16, 8, 2)


def test_driver_on_the_emulator_reports_exits() -> None:
    """The board driver returns (class, exit point) per image and the EXITS_n counters; the
    emulator's cycles are the contract's over the instructions each batch ran."""
    rng = np.random.default_rng(0)
    model, x = with_exits(cascade(rng), rng, "exit", n=30)
    classes, points, _ = golden.run_exits(model, x)
    program = compile_model(model, CONFIG, 2)
    emu = Emulator(CONFIG)
    engine = SeqEngine(emu, emu.allocate, timeout_s=5.0)
    engine.load(program)
    out = engine.run(x)
    np.testing.assert_array_equal(out[EXIT_CLASS], classes)
    np.testing.assert_array_equal(out[EXIT_POINT], points)
    assert engine.stats.exits == (*np.bincount(points, minlength=3).tolist(), 0)
    _, body = decode(program.encode())
    assert engine.stats.cycles == sum(batch_cycles(body, CONFIG, points[i:i + 2].tolist())
                                      for i in range(0, len(x), 2))
