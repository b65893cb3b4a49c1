"""A short AXI soak (tests/fuzz/soak.py): random valid/ready at every engine boundary of a
branching network, beats and tlasts counted on every stream; a planted lost beat is caught."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fuzz.soak import FOLDING, branching_net, soak

pytestmark = [pytest.mark.rtl, pytest.mark.slow]

IMAGES = 24


def test_soak_loses_and_duplicates_nothing(tmp_path) -> None:
    model = branching_net(np.random.default_rng(0))
    result = soak(model, IMAGES, tmp_path, FOLDING, seed=3)
    assert result.problems == []
    assert result.streams == 19 and result.tlasts == 19 * IMAGES
    calm = soak(model, IMAGES, tmp_path / "calm", FOLDING, seed=3, stalls=False)
    assert calm.problems == [] and calm.beats == result.beats
    assert result.least_stalls > 0 and calm.least_stalls == 0, "the FIFOs' stalls are not on"
    print(f"soak: {result.beats} beats, {result.tlasts} tlasts on {result.streams} streams, "
          f"{result.cycles} cycles")


def test_soak_catches_a_lost_beat(tmp_path) -> None:
    """Every FIFO drops its 7th beat: the counts (and the stalled network) say so."""
    model = branching_net(np.random.default_rng(0))
    result = soak(model, IMAGES, tmp_path, FOLDING, seed=3, drop=7)
    assert any("beats in" in p and "expected" in p for p in result.problems), result.problems
