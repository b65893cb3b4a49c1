"""Golden vs the program model on every IR tensor (and, with exits, on each image's class and
exit point): the first check of a compiled program."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from hw.gen.seq import exits
from hw.gen.seq.compiler import BAND, Program
from hw.gen.seq.executor import execute, read_view
from hw.gen.seq.records import pack_inputs, unpack_outputs
from quant import golden, ir
from quant.compare import CompareResult, compare_tensors

Batch = np.ndarray | Mapping[str, np.ndarray]  # one input's `[N, H, W, C]`, or per input


def program_tensors(program: Program, x: Batch, want: Mapping[str, np.ndarray]
                    ) -> tuple[dict[str, np.ndarray], bytes]:
    """Every IR tensor as the program model leaves it in the activation buffer (read right
    after the instruction that completes it; a banded tensor band by band, its rows that no
    band computes, because nothing reads them, taken from `want`), plus the outputs read back
    from DDR records under `output:<name>`; and the output records."""
    n = len(x if isinstance(x, np.ndarray) else next(iter(x.values())))
    got = {t: np.zeros((n, *v.shape), np.int8 if v.signed else np.uint8)
           for t, v in program.views.items()}
    banded = {t.partition(BAND)[0] for ins in program.instructions for t in ins.produces
              if BAND in t}
    unread = {t: np.ones(program.views[t].shape[0], bool) for t in banded}

    def snapshot(index: int, image: int, act: np.ndarray) -> None:
        ins = program.instructions[index]
        for t in ins.produces:
            tensor, sep, row = t.partition(BAND)
            if sep:  # rows of a tensor that lives only a band at a time
                rows = read_view(act, ins, "y")
                got[tensor][image, int(row):int(row) + len(rows)] = rows
                unread[tensor][int(row):int(row) + len(rows)] = False
                continue
            v = program.views[t]
            address = program.address(t, ins["slot"] if ins["once"] else 0)
            pixels = np.arange(math.prod(v.shape[:2]))[:, None] * v.pitch
            raw = act[address + pixels + np.arange(v.shape[2])]
            got[t][image] = raw.view(got[t].dtype).reshape(v.shape)

    raw = execute(program.encode(), program.data, pack_inputs(program, x), n, hook=snapshot,
                  skip=False)
    for name, value in unpack_outputs(program, raw, n).items():
        got[f"output:{name}"] = value
    for tensor, rows in unread.items():
        got[tensor][:, rows] = want[tensor][:, rows]
    return got, raw


def check_program(model: ir.Model, program: Program, x: Batch) -> CompareResult:
    """Golden vs the program model on every tensor the program writes (not a conv output
    whose max pool its MAC writes: `Program.fused`) and on the DDR output records; with exits
    (IR v2) also on each image's result record, as `exit:class` and `exit:point` (golden's
    `exit_decide`, the engine's first passing EXIT)."""
    want = golden.run(model, x)
    for name in model.outputs:
        want[f"output:{name}"] = want[name]
    got, raw = program_tensors(program, x, want)
    written = [op.output for op in model.ops if op.output not in program.fused]
    layers = [*model.inputs, *written,
              *(f"output:{name}" for name in model.outputs)]
    if model.exits:
        classes, points = golden.exit_decide(model, want)
        fields = (exits.EXIT_POINT, exits.EXIT_CLASS)
        want.update(zip(fields, (points[:, None], classes[:, None]), strict=True))
        got_classes, got_points = exits.unpack_results(
            raw, program.header.output_bytes, exits.result_offset(program.instructions),
            len(classes))
        got.update(zip(fields, (got_points[:, None], got_classes[:, None]), strict=True))
        layers += fields
    return compare_tensors("program", want, got, layers)
