"""sigmoid → `HccrLut` (custom layer): the IR's own 256-entry table, stored in the output's form.

hls4ml's sigmoid is a 1024-entry table of its own, so the IR table is handed over as a weight:
`table[i] = lut[i] - offset_out`, indexed by `v + offset_in - lo_in` (`v` the stored input).
"""

from __future__ import annotations

import math

import numpy as np

from hw.hls.fixed import integer_range
from hw.hls.graph import Graph, OpLowering, free_offsets
from quant import ir


def _lower(op: ir.Sigmoid, g: Graph) -> None:
    x_name = op.inputs[0]
    fin, fout = g.forms[x_name], g.forms[op.output]
    table = op.lut.astype(np.int64) - fout.offset
    g.add(op.name, {
        "class_name": "HccrLut", "inputs": [g.names[x_name]],
        "n_beats": math.prod(g.spec(x_name).shape[:2]),
        "index_offset": fin.offset - g.spec(x_name).lo, "table_data": table.astype(np.float64),
    }, {"table": integer_range(int(table.min()), int(table.max())), "result": fout.type},
        produces=op.output)


LOWERING = OpLowering(lower=_lower, outputs=free_offsets)
