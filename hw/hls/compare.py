"""Golden vs a back end, bit for bit, on every tensor both produce: the first mismatch named.

`compare_tensors` and `CompareResult` know nothing of hls4ml: any back end that returns IR
tensors by name (`[N, *shape]`) can use them. `compare_hls` drives the hls4ml C-simulation in
chunks (bounded memory) and folds the chunks' results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hw.hls.project import HlsProject
from quant import golden, ir


@dataclass(frozen=True)
class Mismatch:
    """The first differing element: image, layer (IR tensor), HWC index and both values."""

    image: int
    layer: str
    index: tuple[int, ...]
    golden: int
    got: int | float

    def as_json(self) -> dict:
        """JSON-ready fields."""
        return {"image": self.image, "layer": self.layer, "index": list(self.index),
                "golden": self.golden, "got": self.got}


@dataclass(frozen=True)
class CompareResult:
    """Outcome of comparing a back end with golden on a batch.

    Attributes:
        backend: the back end's name (`hls`, `rtl`, ...).
        images: images compared.
        bit_exact: images on which every compared tensor matched exactly.
        layers: the IR tensors compared, in topological order.
        first_mismatch: the first difference (lowest image, then earliest layer, then index).
    """

    backend: str
    images: int
    bit_exact: int
    layers: tuple[str, ...]
    first_mismatch: Mismatch | None

    def as_json(self) -> dict:
        """`{"backend", "images", "bit_exact", "first_mismatch"}` as the CLI prints it."""
        m = self.first_mismatch
        return {"backend": self.backend, "images": self.images, "bit_exact": self.bit_exact,
                "first_mismatch": None if m is None else m.as_json()}

    def summary(self) -> str:
        """One line: how many images matched on how many tensors, and the first mismatch."""
        line = (f"{self.backend} vs golden: {self.bit_exact}/{self.images} images bit-exact on "
                f"{len(self.layers)} tensors")
        m = self.first_mismatch
        if m is not None:
            line += (f"; first mismatch: image {m.image}, layer {m.layer}, index "
                     f"{list(m.index)}: golden {m.golden}, got {m.got}")
        return line

    def then(self, later: CompareResult) -> CompareResult:
        """This result followed by one on the next images (its image numbers are shifted)."""
        m = self.first_mismatch
        if m is None and later.first_mismatch is not None:
            lm = later.first_mismatch
            m = Mismatch(lm.image + self.images, lm.layer, lm.index, lm.golden, lm.got)
        return CompareResult(self.backend, self.images + later.images,
                             self.bit_exact + later.bit_exact, self.layers, m)


def _number(v: np.floating | np.integer) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def compare_tensors(backend: str, expected: Mapping[str, np.ndarray],
                    got: Mapping[str, np.ndarray], layers: Sequence[str]) -> CompareResult:
    """Compare `got` with `expected` (golden) on `layers`, each `[N, *shape]`, exactly.

    Raises:
        ValueError: a tensor is missing from `got` or has the wrong shape.
    """
    for t in layers:
        if t not in got or np.shape(got[t]) != np.shape(expected[t]):
            raise ValueError(f"{backend}: tensor '{t}' missing or misshapen "
                             f"({np.shape(got.get(t))} vs golden {np.shape(expected[t])})")
    n = len(expected[layers[0]])
    same = np.ones(n, bool)
    diffs = {}
    for t in layers:
        diff = (np.asarray(got[t]) != expected[t]).reshape(n, -1)
        diffs[t] = diff
        same &= ~diff.any(axis=1)
    first = None
    if not same.all():
        image = int(np.argmin(same))
        layer = next(t for t in layers if diffs[t][image].any())
        flat = int(np.argmax(diffs[layer][image]))
        index = np.unravel_index(flat, expected[layer].shape[1:])
        first = Mismatch(image, layer, tuple(int(i) for i in index),
                         int(expected[layer][image].reshape(-1)[flat]),
                         _number(np.asarray(got[layer][image]).reshape(-1)[flat]))
    return CompareResult(backend, n, int(same.sum()), tuple(layers), first)


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
