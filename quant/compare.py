"""Golden vs a back end, bit for bit: the first mismatching element named.

One home for every back end's comparison, beside `quant.golden` that they are all held to.
`compare_tensors` and `CompareResult` take IR tensors by name (`[N, *shape]`) from any back end
(`hw.hls.compare` for the hls4ml C-simulation, `sim.check` for the RTL network);
`first_mismatch` describes the first difference between golden and one stream's received
frames in a line (the RTL engine tests).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


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


def _differing(want: np.ndarray, have: np.ndarray) -> np.ndarray:
    """Flat positions where one image's `have` differs from golden `want` (any shapes)."""
    return np.flatnonzero(np.asarray(want).reshape(-1) != np.asarray(have).reshape(-1))


def _element(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The HWC index of flat position `flat` in a tensor of `shape`."""
    return tuple(int(i) for i in np.unravel_index(flat, tuple(shape)))


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
    for t in layers:
        same &= ~(np.asarray(got[t]) != expected[t]).reshape(n, -1).any(axis=1)
    first = None
    if not same.all():
        image = int(np.argmin(same))
        for layer in layers:
            want, have = expected[layer][image], np.asarray(got[layer][image])
            bad = _differing(want, have)
            if bad.size:
                flat = int(bad[0])
                first = Mismatch(image, layer, _element(flat, want.shape),
                                 int(want.reshape(-1)[flat]), _number(have.reshape(-1)[flat]))
                break
    return CompareResult(backend, n, int(same.sum()), tuple(layers), first)


def first_mismatch(expected: np.ndarray, got: Sequence[np.ndarray] | np.ndarray,
                   shape: Sequence[int] | None = None, name: str = "output") -> str | None:
    """Describe the first difference between `expected [N, ...]` and the received frames.

    Args:
        expected: golden values, one image per row (any trailing shape).
        got: received frames (flat or shaped), one per image.
        shape: per-image shape used to name the element (default: `expected`'s).
        name: tensor or layer name for the message.

    Returns:
        None when every image matches exactly, else one line naming the image, the element
        (as an HWC index and its flat position) and both values, or the count problem.
    """
    expected = np.asarray(expected)
    shape = tuple(shape or expected.shape[1:])
    if len(got) != len(expected):
        return f"{name}: expected {len(expected)} images, got {len(got)}"
    for n, (want, have) in enumerate(zip(expected, got, strict=True)):
        want = np.asarray(want).reshape(-1).astype(np.int64)
        have = np.asarray(have).reshape(-1).astype(np.int64)
        if have.size != want.size:
            return f"{name}: image {n} has {have.size} elements, expected {want.size}"
        bad = _differing(want, have)
        if bad.size:
            i = int(bad[0])
            return (f"{name}: image {n} element {list(_element(i, shape))} (flat {i}): "
                    f"expected {want[i]}, got {have[i]} ({bad.size} of {want.size} differ)")
    return None
