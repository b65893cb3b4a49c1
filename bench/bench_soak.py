"""AXI soak of a branching dataflow network (`tests/fuzz/soak.py`): `HCCR_SOAK_IMAGES` images
(default 400, about 1.4 million beats) with random valid/ready at every engine boundary and on
the network's input and output; prints beats and tlasts counted over every stream, cycles, and
every problem (a lost, duplicated, changed or withdrawn beat, a wrong engine output)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from tests.fuzz.soak import FOLDING, branching_net, soak


def main() -> None:
    images = int(os.environ.get("HCCR_SOAK_IMAGES", "400"))
    model = branching_net(np.random.default_rng(0))
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        result = soak(model, images, Path(tmp), FOLDING, seed=11)
    print(f"soak: {images} images, {result.streams} streams, {result.beats} beats and "
          f"{result.tlasts} tlasts counted, {result.cycles} cycles ({result.wall_s:.1f} s), "
          f"fewest stalls on a stream side {result.least_stalls}, "
          f"{len(result.problems)} problems")
    for problem in result.problems:
        print(f"  {problem}")


if __name__ == "__main__":
    main()
