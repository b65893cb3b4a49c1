"""The batch: how many images share one pass over the weights.

Weights stream from the board's DDR once per batch, so a larger batch needs less DDR per image
but B images' activations on chip and B times the latency. The cycle model (`cycles.py`)
already stalls a MAC on its tile fetches at the configured DDR rate, so the batch is the
smallest whose activations fit and whose cycles per image are within `TOLERANCE` of the
fastest batch's. Each batch runs the faster of `compiler.compile_options`' programs (one conv
chain more in row bands can let more layers share the batch's weight pass).
"""

from __future__ import annotations

from dataclasses import dataclass

from base.errors import HccrError
from hw.gen.seq.compiler import Program, compile_options
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.cycles import image_cycles
from quant import ir

MAX_BATCH = 16
TOLERANCE = 0.02


@dataclass(frozen=True)
class BatchChoice:
    """A compiled program at its batch, with what it asks of the DDR."""

    program: Program
    cycles_per_image: float

    @property
    def images_per_s(self) -> float:
        return self.program.config.clock_mhz * 1e6 / self.cycles_per_image

    @property
    def ddr_bytes_per_image(self) -> float:
        """Weights and parameters (once per batch), the input and output records."""
        h = self.program.header
        return h.data_bytes / h.batch + h.input_bytes + h.output_bytes

    @property
    def ddr_gb_s(self) -> float:
        return self.ddr_bytes_per_image * self.images_per_s / 1e9


def choose_batch(model: ir.Model, config: EngineConfig, max_batch: int = MAX_BATCH,
                 exactly: bool = False) -> BatchChoice:
    """The batch ≤ `max_batch` of the module doc (`exactly`: the batch `max_batch` itself).

    Raises:
        HccrError: not even one image fits (names the op, as `compile_model` does).
    """
    choices: list[BatchChoice] = []
    for batch in range(max_batch if exactly else 1, max_batch + 1):
        try:
            options = compile_options(model, config, batch)
        except HccrError:
            if not choices:
                raise
            break
        choices.append(min((BatchChoice(p, image_cycles(p)) for p in options),
                           key=lambda c: c.cycles_per_image))
    fastest = min(c.cycles_per_image for c in choices)
    return next(c for c in choices if c.cycles_per_image <= fastest * (1 + TOLERANCE))
