"""Max pools fused into the conv before them (hw/gen/seq/pools.py): the program model, which
pools at the MAC's write-back as the engine does, equals golden on the pooled tensor; the
conv's output takes no region; pools the write-back cannot do stay passes of their own."""

from __future__ import annotations

import numpy as np
import pytest
from ir_factory import make_op, op_chain, random_batch, random_spec

from hw.gen.seq import pools
from hw.gen.seq.check import check_program
from hw.gen.seq.compiler import compile_model
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.files import load_program, save_program
from hw.gen.seq.isa import POOL_ROW, Opcode
from quant import ir

NO_PAD = (0, 0, 0, 0)


def _conv(cout: int, dtype: str, relu: bool = False) -> tuple[str, dict]:
    return "conv2d", {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1, 1, 1), "cout": cout,
                      "out_dtype": dtype, "relu": relu}


def _pool(kernel: int = 2, stride: int = 2, padding: tuple = NO_PAD) -> tuple[str, dict]:
    return "maxpool", {"kernel": (kernel, kernel), "stride": (stride, stride),
                       "padding": padding}


def _head() -> tuple[str, dict]:
    return "conv2d", {"kernel": (1, 1), "stride": (1, 1), "padding": NO_PAD, "cout": 3,
                      "out_dtype": "int8"}


@pytest.mark.parametrize("cfg", [EngineConfig(pe=4, simd=8), EngineConfig(pe=3, simd=5),
                                 EngineConfig(pe=1, simd=1)])
@pytest.mark.parametrize(("shape", "dtype", "relu"), [((8, 8, 3), "int8", False),
                                                      ((7, 9, 2), "uint8", False),
                                                      ((9, 6, 5), "int8", True)])
@pytest.mark.parametrize("batch", [1, 2])
def test_a_2x2_max_pool_after_a_conv_is_written_by_its_mac(cfg, shape, dtype, relu, batch):
    rng = np.random.default_rng(hash((shape, batch)) % 2**32)
    model = op_chain(rng, "pooled", random_spec(rng, "x", shape, "uint8"),
                     [_conv(7, dtype, relu), _pool(), _head()])
    program = compile_model(model, cfg, batch)
    conv = next(ins for ins in program.instructions if ins.op == "conv2d0")
    assert Opcode.MAXPOOL not in {ins.opcode for ins in program.instructions}
    assert conv["pool"] and conv.produces == ("maxpool1",)
    assert program.fused == {"conv2d0"} and "conv2d0" not in program.regions
    result = check_program(model, program, random_batch(model, rng, 3))
    assert result.bit_exact == 3 and "maxpool1" in result.layers
    assert "conv2d0" not in result.layers


def test_the_same_network_unfused_is_bit_exact_too():
    rng = np.random.default_rng(5)
    model = op_chain(rng, "pooled", random_spec(rng, "x", (8, 8, 3), "uint8"),
                     [_conv(6, "int8"), _pool(), _head()])
    program = compile_model(model, EngineConfig(pe=4, simd=8), 2, fuse=False)
    assert Opcode.MAXPOOL in {ins.opcode for ins in program.instructions}
    assert not program.fused
    assert check_program(model, program, random_batch(model, rng, 3)).bit_exact == 3


def _read_twice(rng: np.random.Generator) -> ir.Model:
    """conv → pool, and the conv's output also into the head's add."""
    x = random_spec(rng, "x", (8, 8, 3), "uint8")
    conv, y = make_op("conv2d", rng, "conv", [x], **_conv(4, "int8")[1])
    pool, p = make_op("maxpool", rng, "pool", [y], **_pool()[1])
    up, u = make_op("conv2d", rng, "up", [p], kernel=(1, 1), stride=(1, 1), padding=NO_PAD,
                    cout=4, out_dtype="int8")
    tail, t = make_op("global_avgpool", rng, "tail", [y], out_dtype="int8")
    specs = {s.name: s for s in (x, y, p, u, t)}
    return ir.Model("twice", specs, (conv, pool, up, tail), ("x",), ("up", "tail"))


@pytest.mark.parametrize("case", ["3x3 stride 2", "padded", "after prelu", "read twice",
                                  "too wide"])
def test_pools_the_write_back_cannot_do_stay_passes(case):
    rng = np.random.default_rng(11)
    steps = {"3x3 stride 2": [_conv(4, "int8"), _pool(3, 2, (1, 1, 1, 1)), _head()],
             "padded": [_conv(4, "int8"), _pool(2, 2, (1, 1, 1, 1)), _head()],
             "after prelu": [_conv(4, "int8"), ("prelu", {"out_dtype": "int8"}), _pool(),
                             _head()]}
    shape = (4, 2 * POOL_ROW + 2, 2) if case == "too wide" else (8, 8, 3)
    if case == "read twice":
        model = _read_twice(rng)
    else:
        model = op_chain(rng, "unfused", random_spec(rng, "x", shape, "uint8"),
                         steps.get(case, [_conv(2, "int8"), _pool(), _head()]))
    assert pools.fusable(model) == {}
    program = compile_model(model, EngineConfig(pe=4, simd=8, act_bytes=64 * 1024), 1)
    assert Opcode.MAXPOOL in {ins.opcode for ins in program.instructions}
    assert not any(ins["pool"] for ins in program.instructions)
    assert check_program(model, program, random_batch(model, rng, 2)).bit_exact == 2


def test_a_saved_program_keeps_its_fused_and_stacked_tensors(tmp_path):
    rng = np.random.default_rng(9)
    model = op_chain(rng, "pooled", random_spec(rng, "x", (8, 8, 1), "uint8"),
                     [_conv(8, "int8"), _pool(), _head()])
    program = compile_model(model, EngineConfig(pe=4, simd=8), 2)
    save_program(program, tmp_path / "prog")
    back = load_program(tmp_path / "prog")
    assert back.fused == program.fused == {"conv2d0"}
    assert back.stacked == program.stacked == {"x": (3, 1)}
    assert check_program(model, back, random_batch(model, rng, 3)).bit_exact == 3
