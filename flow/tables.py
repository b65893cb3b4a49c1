"""A network estimate as rich tables on the terminal (the rows come from `hw.estimate.report`)."""

from __future__ import annotations

from rich.table import Table

from hw.estimate.network import NetworkEstimate
from hw.estimate.report import HEADER, SEQ_HEADER, layer_rows, sequential_op_rows, summary
from hw.estimate.sequential import SequentialPlan


def rich_tables(est: NetworkEstimate, seq: SequentialPlan | None = None) -> list[Table]:
    """The per-layer table, the summary table and, given `seq`, its per-op table."""
    layers = Table(title=f"{est.name} on {est.device.name}", show_lines=False)
    for i, col in enumerate(HEADER):
        layers.add_column(col, justify="left" if i in (0, 1, 12) else "right")
    for row in layer_rows(est):
        layers.add_row(*row)
    totals = Table(show_header=False)
    totals.add_column()
    totals.add_column()
    for k, v in summary(est, seq):
        totals.add_row(k, v)
    if seq is None:
        return [layers, totals]
    ops = Table(title=f"layer-sequential {seq.config.pe}×{seq.config.simd} engine: cycles per "
                      f"instruction, batch {seq.batch}")
    for i, col in enumerate(SEQ_HEADER):
        ops.add_column(col, justify="left" if i < 2 else "right")
    for row in sequential_op_rows(seq):
        ops.add_row(*row)
    return [layers, ops, totals]
