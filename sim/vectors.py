"""Run `sim.tb.vectors` on a build: per-cycle input values in, strobed output values out."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from sim.runner import Build, SimError, run


def pack_lanes(values: np.ndarray, width: int) -> list[int]:
    """Rows of lane values (`[T, lanes]`, lane 0 in the low bits) as one integer per row."""
    values = np.asarray(values).astype(np.int64)
    mask = (1 << width) - 1
    rows = values.reshape(len(values), -1).tolist()
    return [sum((int(v) & mask) << (i * width) for i, v in enumerate(row)) for row in rows]


def unpack_lanes(words: Sequence[int], lanes: int, width: int, signed: bool) -> np.ndarray:
    """Inverse of `pack_lanes`: `[T, lanes]` int64."""
    mask = (1 << width) - 1
    out = np.array([[(w >> (i * width)) & mask for i in range(lanes)] for w in words],
                   dtype=np.int64).reshape(len(words), lanes)
    if signed:
        out = np.where(out >= 1 << (width - 1), out - (1 << width), out)
    return out


def run_vectors(built: Build, directory: str | Path, inputs: Mapping[str, Sequence[int]],
                outputs: Sequence[str], strobe: str = "valid_o", drain: int = 16
                ) -> dict[str, list[int]]:
    """Drive `inputs` (one value per cycle per port) and return the strobed outputs.

    Raises:
        SimError: the simulation failed or wrote no outputs.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vectors.json").write_text(json.dumps({
        "inputs": {k: [int(v) for v in vals] for k, vals in inputs.items()},
        "outputs": list(outputs), "strobe": strobe, "drain": drain}))
    res = run(built, "sim.tb.vectors", directory, env={"HCCR_CASE_DIR": str(directory)})
    out = directory / "outputs.json"
    if not res.passed or not out.exists():
        raise SimError(f"{built.top}: vector simulation failed: {res.message}")
    return json.loads(out.read_text())
