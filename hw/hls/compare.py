"""Golden vs the hls4ml C-simulation, bit for bit, on every traced tensor.

`compare_hls` drives the C-simulation in chunks (bounded memory) and folds the chunks' results
with the back-end-neutral `quant.compare` (`compare_tensors`, `CompareResult`), which the RTL
back end shares.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hw.hls.project import HlsProject
from quant import golden, ir
from quant.compare import CompareResult, compare_tensors


def compare_hls(project: HlsProject, x: np.ndarray, chunk: int = 50,
                advance: Callable[[int], None] | None = None) -> CompareResult:
    """Golden vs the compiled C-simulation on single-input images `x`, every traced tensor.

    Args:
        project: a compiled project.
        x: `[N, H, W, C]` integers for the graph input.
        chunk: images per C-simulation call.
        advance: called with the number of images done after each chunk.
    """
    model = project.model
    result = None
    for start in range(0, len(x), chunk):
        feeds = {model.inputs[0]: x[start : start + chunk]}
        got = project.trace(feeds)
        expected = golden.run(model, feeds)
        layers = [op.output for op in model.ops if op.output in got]
        part = compare_tensors("hls", expected, got, layers)
        result = part if result is None else result.then(part)
        if advance is not None:
            advance(len(feeds[model.inputs[0]]))
    if result is None:
        raise ValueError("no images to compare")
    return result


def csim(project: HlsProject, x: np.ndarray, advance: Callable[[int], None] | None = None
         ) -> CompareResult:
    """Compile the project, compare it with golden on `x`, record the result, delete the `.so`."""
    try:
        project.compile()
        result = compare_hls(project, x, advance=advance)
    finally:
        project.clean()
    project.record("csim", {**result.as_json(), "compile_seconds": round(
        project.compile_seconds, 1)})
    return result


def single_input(model: ir.Model) -> ir.TensorSpec:
    """The model's one graph input.

    Raises:
        ValueError: the model has several inputs.
    """
    if len(model.inputs) != 1:
        raise ValueError(f"{model.name}: hls compare drives single-input models, this one has "
                         f"{len(model.inputs)} inputs")
    return model.tensors[model.inputs[0]]
