"""The checks that hold a program with early exits to golden: `check_program` compares each
image's (class, exit point), `bit_exact_images` reads output records in which an image that
left early has no later outputs, and a batch that would be split is refused by name."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from base.errors import HccrError
from hw.gen.seq import exits
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.executor import execute
from hw.gen.seq.isa import Opcode
from hw.gen.seq.records import pack_inputs
from quant import golden
from sim.seq_freerun import bit_exact_images
from tests.cascade_factory import cascade, with_exits

CONFIG = EngineConfig(pe=4, simd=8, act_bytes=16384, tile_bytes=2048)


def _cascade(mid_b: str = "exit", n: int = 20):
    rng = np.random.default_rng(0)
    model, x = with_exits(cascade(rng), rng, mid_b, n=n)
    return model, x, golden.run_exits(model, x)[1]


def test_check_program_names_a_wrong_exit_point() -> None:
    """Point 0's threshold raised to 'always' in the program's data block: every tensor is
    still right, but every image leaves at point 0; the first image golden sends further is
    the first mismatch, named as `exit:point`."""
    model, x, points = _cascade()
    program = compile_model(model, CONFIG, 2)
    first = next(i for i in program.instructions if i.opcode == Opcode.EXIT)
    data = bytearray(program.data)
    data[first["ddr_off"]:first["ddr_off"] + 4] = exits.ALWAYS.to_bytes(4, "little")
    result = check_program(model, dataclasses.replace(program, data=bytes(data)), x)
    image = int(np.argmax(points > 0))
    assert points[image] > 0
    m = result.first_mismatch
    assert (m.image, m.layer, m.golden, m.got) == (image, exits.EXIT_POINT, points[image], 0)
    assert result.bit_exact == int(np.sum(points == 0))
    assert check_program(model, program, x).first_mismatch is None


def _records(program, x) -> np.ndarray:
    raw = execute(program.encode(), program.data, pack_inputs(program, x), len(x))
    return np.frombuffer(raw, np.uint8).reshape(len(x), -1).copy()


def test_bit_exact_images_reads_early_exits() -> None:
    """Batch 1, the engine's jumps taken: images that left early have zeros where their later
    logits would be, and still count as bit-exact; a wrong class byte, a wrong logit of a
    point the image reached, or a missing record each cost that image."""
    model, x, points = _cascade()
    program = compile_model(model, CONFIG, 1)
    rec = _records(program, x)
    n = len(x)
    offsets = dict(program.outputs)
    later = model.exits[-1].logits[0]
    early = int(np.argmax(points == 0))
    want = golden.run(model, x)[later][early].reshape(-1).view(np.uint8)
    got = rec[early, offsets[later]:offsets[later] + want.size]
    assert not np.array_equal(got, want)  # not written: an all-outputs check would fail it
    assert bit_exact_images(model, program, x, rec.tobytes()) == n
    result = exits.result_offset(program.instructions)
    reached = model.exits[0].logits[0]
    for image, column in ((0, result), (1, offsets[reached]), (2, result + 3)):
        bad = rec.copy()
        bad[image, column] ^= 1
        assert bit_exact_images(model, program, x, bad.tobytes()) == n - 1, column


def test_exits_in_a_split_batch_are_refused() -> None:
    """A buffer holding two images whole: batch 3 would be split (the head run image by
    image, as the same model without exits is), where an EXIT cannot end the batch."""
    model, _, _ = _cascade()
    image_bytes = compile_model(model, CONFIG, 1).header.act_image_bytes
    small = dataclasses.replace(CONFIG, act_bytes=2 * image_bytes + 8)
    assert compile_model(model, small, 2).header.batch == 2
    with pytest.raises(HccrError, match=r"exit 'a': a batch of 3 .* at most 2$"):
        compile_model(model, small, 3)
    split = compile_model(dataclasses.replace(model, exits=()), small, 3)
    assert any(ins["once"] for ins in split.instructions)
