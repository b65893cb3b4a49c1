"""The check every hls4ml C-simulation test ends with: golden vs C-sim, every layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ir_factory import random_batch

from hw.hls.compare import compare_hls
from hw.hls.config import HlsConfig
from hw.hls.project import HlsProject, write_project
from quant import golden, ir


def assert_bit_exact(model: ir.Model, rng: np.random.Generator, tmp_path: Path, images: int
                     ) -> HlsProject:
    """Every layer on `images` random inputs, and the outputs with np.array_equal; one compile."""
    feeds = random_batch(model, rng, images)
    x = feeds[model.inputs[0]]
    project = write_project(model, tmp_path / "prj", HlsConfig(), {model.inputs[0]: x[:5]})
    project.compile()
    result = compare_hls(project, x)
    got = project.trace(feeds)
    project.clean()
    assert result.first_mismatch is None, result.summary()
    assert result.bit_exact == images
    assert set(result.layers) == {op.output for op in model.ops}
    expected = golden.run(model, feeds)
    for t in model.outputs:
        assert np.array_equal(got[t], expected[t]), t
    assert not list((tmp_path / "prj" / "firmware").glob("*.so"))
    return project
