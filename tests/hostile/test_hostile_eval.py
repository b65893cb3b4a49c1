"""`hccr eval`: bad runs (model.pt corrupt in every way), data and options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import refused

from model.data.classes import tag_of_class
from model.data.gnt import write_gnt


def _model_pt(run, edit):
    ckpt = torch.load(run / "model.pt", weights_only=False)
    edit(ckpt)
    torch.save(ckpt, run / "model.pt")


CORRUPTIONS = {
    "no config": lambda c: c.pop("config"),
    "no classes": lambda c: c.pop("classes"),
    "no weights": lambda c: c.pop("model"),
    "config without arch": lambda c: c["config"].pop("arch"),
    "config with an unknown key": lambda c: c["config"].update(colour="blue"),
    "unknown arch": lambda c: c["config"].update(arch="lenet"),
    "classes not integers": lambda c: c.update(classes=["a", "b", "c", "d"]),
    "classes beyond GB2312 level 1": lambda c: c.update(classes=[0, 1, 2, 9999]),
    "size a string": lambda c: c["config"].update(size="big"),
    "weights of another network": lambda c: c.update(model={"fc.weight": torch.zeros(2, 2)}),
    "weights of the wrong shape": lambda c: c["model"].update(
        {k: torch.zeros(3) for k in list(c["model"])[:1]}),
    "a list, not a checkpoint": lambda c: (c.clear(), c.update(x=[1, 2])),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_corrupt_model_pt(tiny_run, tiny_data, copy, corruption):
    run = copy(tiny_run, "run")
    _model_pt(run, CORRUPTIONS[corruption])
    refused("eval", "--run", run, "--data", tiny_data / "test", names=("model.pt",))


@pytest.mark.parametrize("how", ["truncated", "text", "empty", "folder", "missing"])
def test_unreadable_model_pt(tiny_run, tiny_data, copy, how):
    run = copy(tiny_run, "run")
    path = run / "model.pt"
    if how == "truncated":
        path.write_bytes(path.read_bytes()[:500])
    elif how == "text":
        path.write_text("{'config': 1}\n")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "folder":
        path.unlink()
        path.mkdir()
    else:
        path.unlink()
    refused("eval", "--run", run, "--data", tiny_data / "test", names=("model.pt",))


def test_run_folder_missing(tiny_data, tmp_path):
    refused("eval", "--run", tmp_path / "nope", "--data", tiny_data / "test", names=("nope",))


@pytest.mark.parametrize("kind, says", [("empty", "no images"), ("garbage", "byte 0"),
                                        ("no_gnt", "no .gnt files"), ("missing", "no such")])
def test_bad_data(tiny_run, gnt, kind, says):
    refused("eval", "--run", tiny_run, "--data", gnt[kind], names=(gnt[kind].name, says))


def test_all_records_bad_with_skip_bad(tiny_run, gnt):
    refused("eval", "--run", tiny_run, "--data", gnt["all_bad"], "--skip-bad",
            names=("all_bad.gnt", "no images"))


def test_data_of_classes_the_model_does_not_know(tiny_run, tmp_path):
    other = tmp_path / "other.gnt"
    write_gnt(other, [(tag_of_class(10), np.full((5, 5), 9, np.uint8))])
    refused("eval", "--run", tiny_run, "--data", other, "--json", names=("other.gnt", "none of"))


@pytest.mark.parametrize("value", ["nan", "1.5", "0", "-0.2", "inf"])
def test_bad_threshold(tiny_run, tiny_data, value):
    refused("eval", "--run", tiny_run, "--data", tiny_data / "test", "--threshold", value,
            names=("--threshold", value))


def test_interrupted_dataset(tiny_run, tiny_data, copy):
    data = copy(tiny_data, "interrupted")
    (data / "manifest.json").rename(data / "manifest.json.partial")
    refused("eval", "--run", tiny_run, "--data", data / "test", names=("interrupted",))
