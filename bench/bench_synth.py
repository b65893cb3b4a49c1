"""Synthetic handwriting speed: images/s on all cores vs the 200 images/s target."""

from __future__ import annotations

import os
import tempfile
import time

from model.data.synth import SynthPlan, synthesize

TARGET_IMAGES_PER_SECOND = 200


def main() -> None:
    plan = SynthPlan(classes=3755, writers={"train": 1}, seed=0)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        synthesize(plan, out)
        seconds = time.perf_counter() - start
    rate = plan.images / seconds
    print(f"synth: {plan.images} images in {seconds:.1f} s on {os.cpu_count()} cores = "
          f"{rate:.0f} images/s; ratio to the {TARGET_IMAGES_PER_SECOND}/s target: "
          f"{rate / TARGET_IMAGES_PER_SECOND:.2f}")


if __name__ == "__main__":
    main()
