"""The board driver (hw/seq_driver.py) on the register-level emulator: bit-exact against golden,
the counters, every error code as the driver's named error, DONE/IRQ, saved programs."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from functools import cache

import numpy as np
import pytest
from ir_factory import all_ops_graph, random_batch

from base.errors import HccrError
from base.paths import ROOT
from hw.gen.seq.compiler import Program, compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import image_cycles
from hw.gen.seq.emulator import Emulator
from hw.gen.seq.files import load_program, save_program
from hw.gen.seq.isa import Opcode
from hw.gen.seq_regs import register_map
from hw.seq_driver import SeqEngine, SeqError, SeqTimeout
from quant import golden

CFG = EngineConfig(pe=4, simd=8)
REG = {name: reg.address for name, reg in register_map().items()}


@cache
def _model_and_program(batch: int) -> tuple[object, Program]:
    model = all_ops_graph(np.random.default_rng(7), fc_dtype="int8")
    return model, compile_model(model, CFG, batch)


def _engine(emu: Emulator, program: Program) -> SeqEngine:
    engine = SeqEngine(emu, emu.allocate, timeout_s=5.0)
    engine.load(program)
    return engine


def _assert_golden(model: object, x: np.ndarray, got: dict[str, np.ndarray]) -> None:
    want = golden.run(model, x)
    assert set(got) == set(model.outputs)
    for name in model.outputs:
        np.testing.assert_array_equal(got[name], want[name])
        assert got[name].dtype == want[name].dtype


@pytest.mark.parametrize(("batch", "images"), [(1, 4), (2, 5), (2, 6)])
def test_driver_on_the_emulator_equals_golden(batch, images):
    model, program = _model_and_program(batch)
    emu = Emulator(CFG)
    engine = _engine(emu, program)
    rng = np.random.default_rng(batch * 10 + images)
    for _ in range(2):  # a second run reuses the buffers and must not see the first's data
        x = random_batch(model, rng, images)["image"]
        _assert_golden(model, x, engine.run(x))
    stats = engine.stats
    assert stats.images == images
    full, rest = divmod(images, batch)  # a last, partial batch runs as a batch of `rest`
    want = image_cycles(program) * batch * full
    if rest:
        want += image_cycles(_model_and_program(rest)[1]) * rest
    assert stats.cycles == want
    assert 0 < stats.stall_cycles < stats.cycles
    assert stats.images_per_s == pytest.approx(CFG.clock_mhz * 1e6 * images / stats.cycles)


def test_a_saved_program_runs_the_same(tmp_path):
    model, program = _model_and_program(2)
    paths = save_program(program, tmp_path / "prog")
    assert [p.name for p in paths] == ["program.bin", "data.bin", "program.json"]
    back = load_program(tmp_path / "prog")
    assert back.encode() == program.encode() and back.data == program.data
    assert (back.views, back.inputs, back.outputs, back.regions, back.config, back.stacked,
            back.fused) == (program.views, program.inputs, program.outputs, program.regions,
                            program.config, program.stacked, program.fused)
    assert [(i.op, i.produces) for i in back.instructions] == [
        (i.op, i.produces) for i in program.instructions]
    emu = Emulator(CFG)
    engine = _engine(emu, tmp_path / "prog")
    x = random_batch(model, np.random.default_rng(3), 3)["image"]
    _assert_golden(model, x, engine.run(x))


@pytest.mark.parametrize(("field", "value", "why"), [
    (None, None, "program.json is missing"), ("format", 0, "format 0, this version reads"),
    ("stacked", 5, "AttributeError"), ("stacked", {"image": [3]}, "not enough values"),
    ("views", {"x": {}}, "KeyError"), ("header", "?", "TypeError")], ids=str)
def test_a_broken_saved_program_is_one_named_error(field, value, why, tmp_path):
    """A missing file or a program.json that is not a saved program's description (a hand
    edit, another version) is refused naming the file, not with a traceback."""
    _, program = _model_and_program(2)
    folder = tmp_path / "prog"
    save_program(program, folder)
    meta = folder / "program.json"
    if field is None:
        meta.unlink()
    else:
        doc = json.loads(meta.read_text())
        meta.write_text(json.dumps({**doc, field: value}))
    with pytest.raises(HccrError, match=why):
        load_program(folder)


def test_a_saved_program_that_disagrees_with_its_json_is_refused(tmp_path):
    _, program = _model_and_program(1)
    save_program(program, tmp_path)
    (tmp_path / "data.bin").write_bytes(program.data[:-8])
    with pytest.raises(HccrError, match="does not describe"):
        load_program(tmp_path)
    (tmp_path / "program.json").unlink()
    with pytest.raises(HccrError, match="program.json is missing"):
        load_program(tmp_path)


def test_emulator_buffers_are_not_coherent():
    """The CPU's copy reaches DDR only on flush and sees DDR only after invalidate, so the
    bit-exact runs above prove the driver flushes inputs and invalidates outputs."""
    emu = Emulator(CFG)
    buf = emu.allocate((3, 5), np.int16)
    ddr = emu.ddr[buf.physical_address - emu.ddr_base:][:buf.nbytes]
    buf[:] = np.arange(15).reshape(3, 5)
    assert not ddr.any()
    buf.flush()
    np.testing.assert_array_equal(ddr.view(np.int16), np.arange(15))
    ddr[:] = 0
    assert buf.any()
    buf.invalidate()
    assert not buf.any()
    assert emu.allocate((1,)).physical_address % 64 == 0


def _run_error(engine: SeqEngine, model, images: int = 1, match: str | None = None
               ) -> tuple[int, str]:
    """Run `images` random images (seed 1); the (code, name) of the SeqError it raises."""
    with pytest.raises(SeqError, match=match) as exc:
        engine.run(random_batch(model, np.random.default_rng(1), images)["image"])
    return exc.value.code, exc.value.name


def test_a_program_for_another_configuration_is_bad_instruction():
    model, _ = _model_and_program(1)
    other = compile_model(model, EngineConfig(pe=8, simd=16), 1)
    engine = _engine(Emulator(CFG), other)
    assert _run_error(engine, model, match=r"ERROR_CODE 3 \(BAD_INSTRUCTION\).*PE 4, SIMD 8.*"
                                           r"compiled for PE 8, SIMD 16"
                      ) == (3, "BAD_INSTRUCTION")


def test_a_wrong_magic_is_bad_instruction():
    model, program = _model_and_program(1)
    bad = dataclasses.replace(program, header=dataclasses.replace(program.header, magic=0))
    engine = _engine(Emulator(CFG), bad)
    assert _run_error(engine, model, match="magic 0x00000000") == (3, "BAD_INSTRUCTION")


def test_a_program_without_end_overruns():
    model, program = _model_and_program(1)
    assert program.instructions[-1].opcode == Opcode.END
    body = program.instructions[:-1]
    bad = dataclasses.replace(program, instructions=body,
                              header=dataclasses.replace(program.header, instructions=len(body)))
    engine = _engine(Emulator(CFG), bad)
    assert _run_error(engine, model, match="no END within PROGRAM_BYTES") == (5, "PROGRAM_OVERRUN")


def test_a_program_base_outside_ddr_is_an_axi_read_error():
    model, program = _model_and_program(1)
    emu = Emulator(CFG)
    engine = _engine(emu, program)
    emu.write(REG["PROGRAM_BASE"], emu.ddr_base - 64)
    assert _run_error(engine, model, match="DDR refused") == (1, "AXI_READ")


class _Unreachable(np.ndarray):
    """A buffer at an address past the emulator's DDR (a cache the engine cannot reach)."""

    physical_address = 0

    def flush(self) -> None:
        pass

    def invalidate(self) -> None:
        pass


@pytest.mark.parametrize(("which", "code"), [(1, (1, "AXI_READ")), (2, (2, "AXI_WRITE"))])
def test_a_record_buffer_outside_ddr_is_an_axi_error(which, code):
    """Allocation 0 holds the program, 1 the input records, 2 the output records."""
    model, program = _model_and_program(1)
    emu = Emulator(CFG, ddr_bytes=8 << 20)
    calls = []

    def allocate(shape, dtype):
        calls.append(shape)
        if len(calls) - 1 != which:
            return emu.allocate(shape, dtype)
        buf = np.zeros(shape, dtype).view(_Unreachable)
        buf.physical_address = emu.ddr_base + emu.ddr.size
        return buf

    engine = SeqEngine(emu, allocate)
    engine.load(program)
    assert _run_error(engine, model, 2) == code


def test_start_while_busy_is_refused_and_the_engine_recovers():
    model, program = _model_and_program(1)
    emu = Emulator(CFG, run_polls=3)
    engine = _engine(emu, program)
    emu.write(REG["IMAGE_COUNT"], 0)
    emu.write(REG["CTRL"], 1)  # someone else's run
    assert emu.read(REG["STATUS"]) & 1
    x = random_batch(model, np.random.default_rng(2), 2)["image"]
    with pytest.raises(SeqError, match="another run was in progress") as exc:
        engine.run(x)
    assert (exc.value.code, exc.value.name) == (4, "START_WHILE_BUSY")
    while emu.read(REG["STATUS"]) & 1:  # the first run goes on to its end
        pass
    _assert_golden(model, x, engine.run(x))
    assert emu.read(REG["ERROR_CODE"]) == 0


def test_no_done_in_time_is_a_timeout():
    model, program = _model_and_program(1)
    engine = _engine(Emulator(CFG, run_polls=1 << 40), program)
    engine.timeout_s = 0.05
    with pytest.raises(SeqTimeout, match="no DONE within 0.05 s"):
        engine.run(random_batch(model, np.random.default_rng(1), 1)["image"])


def test_done_is_sticky_until_written_1_and_drives_the_irq():
    model, program = _model_and_program(1)
    emu = Emulator(CFG)
    engine = _engine(emu, program)
    emu.write(REG["CTRL"], 2)  # IRQ_EN
    engine.run(random_batch(model, np.random.default_rng(1), 1)["image"])
    assert emu.read(REG["CTRL"]) == 2  # the driver kept IRQ_EN; START reads 0
    done = 2
    assert emu.read(REG["STATUS"]) == done and emu.irq
    emu.write(REG["STATUS"], 0)
    assert emu.read(REG["STATUS"]) == done and emu.irq
    emu.write(REG["STATUS"], done)
    assert emu.read(REG["STATUS"]) == 0 and not emu.irq


def test_pynq_is_imported_only_on_the_board():
    code = "import sys, hw.seq_driver; assert 'pynq' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


BOARD_CHECK = """
import sys
# What `pip3 install numpy threadpoolctl systemrdl-compiler peakrdl-regblock` puts on a board
# (pure-Python wheels besides NumPy), and the three folders of the checkout copied there.
BOARD = {"numpy", "threadpoolctl", "systemrdl", "antlr4", "colorama", "markdown",
         "typing_extensions", "peakrdl_regblock", "jinja2", "markupsafe", "base", "hw", "quant"}
class Board:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top not in sys.stdlib_module_names and top not in BOARD:
            raise ImportError(f"not on the board: {name}")
sys.meta_path.insert(0, Board())
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.emulator import Emulator
from hw.seq_driver import SeqEngine
emu = Emulator(EngineConfig(pe=4, simd=8))
assert SeqEngine(emu, emu.allocate).config()["PE"] == 4
"""


def test_the_driver_needs_no_pytorch_on_the_board():
    subprocess.run([sys.executable, "-c", BOARD_CHECK], check=True, cwd=ROOT)


def test_the_driver_checks_the_id_and_reads_the_configuration():
    emu = Emulator(CFG, segments=2)
    assert SeqEngine(emu, emu.allocate).config() == {"PE": 4, "SIMD": 8, "SEGMENTS": 2,
                                                      "VERSION": 1}

    class Nothing:
        def read(self, offset):
            return 0xFFFF_FFFF

        def write(self, offset, value):
            pass

    with pytest.raises(HccrError, match="ID reads 0xFFFFFFFF"):
        SeqEngine(Nothing(), emu.allocate)
