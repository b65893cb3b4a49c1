"""The networks shipped under `models/` load and recognise the held-out writers they were
scored on: the float checkpoint with `load_trained`, the int8 IR in the golden model, on
images `hccr data synth` regenerates from the seed their cards name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from base.paths import ROOT
from model.data.dataset import load_images
from model.data.synth import SynthPlan, synthesize
from model.loop import to_input
from model.train import load_trained
from quant import golden, ir
from quant.export import read_labels

SHIPPED = [ROOT / "models" / "sqnxt-ccbam-3755"]
CLASSES = 40  # the first classes of held-out writer 0 (seed 3755, as the card says)


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("held_out")
    synthesize(SynthPlan(classes=CLASSES, writers={"test": 1}, seed=3755), out, workers=1)
    return out / "test"


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_network_loads_and_recognises_held_out_writers(folder, held_out):
    assert "seed 3755" in (folder / "README.md").read_text(encoding="utf-8")
    model, classes, config = load_trained(folder / "run")
    integer = ir.load(folder / "ir")
    assert len(classes) == 3755 and np.array_equal(read_labels(folder / "ir"), classes)
    data = load_images(held_out, config.size)
    assert data.labels.tolist() == list(range(CLASSES))
    with torch.no_grad():
        float_pred = model(to_input(data.images)).argmax(1).numpy()
    logits = golden.run(integer, data.images[..., None])[integer.outputs[0]]
    int8_pred = logits.reshape(CLASSES, -1).argmax(1)
    # The cards report about 95 % held-out top-1 for both; 40 images leave room for chance.
    assert np.mean(classes[int8_pred] == data.labels) >= 0.85
    assert np.mean(classes[float_pred] == data.labels) >= 0.85
    assert np.mean(float_pred == int8_pred) >= 0.9
