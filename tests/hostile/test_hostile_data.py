"""`hccr data synth|info|preview`: bad options, output places, interrupted and corrupt
datasets."""

from __future__ import annotations

import json

import pytest
from conftest import UNWRITABLE, refused, refused_out, succeeded


@pytest.mark.parametrize("option, value", [
    ("--classes", "-1"), ("--per-class", "-5"), ("--test-per-class", "-1"),
    ("--workers", "-2"), ("--seed", "-1"), ("--split", "all"),
])
def test_synth_bad_option(tmp_path, option, value):
    refused("data", "synth", "--out", tmp_path / "d", option, value, names=(option[2:],),
            clean=tmp_path)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("where", UNWRITABLE)
def test_synth_bad_out(a_file, tmp_path, where):
    refused_out(where, a_file, tmp_path, "d", "data", "synth", "--classes", 1, "--per-class", 1,
                "--workers", 1)


@pytest.fixture
def interrupted(tiny_data, copy):
    data = copy(tiny_data, "interrupted")
    (data / "manifest.json").rename(data / "manifest.json.partial")
    return data


def test_synth_refuses_an_interrupted_dataset_and_overwrites_it(interrupted):
    refused("data", "synth", "--out", interrupted, "--classes", 1, "--per-class", 1,
            names=("--overwrite",))
    succeeded("data", "synth", "--out", interrupted, "--classes", 1, "--per-class", 1,
              "--workers", 1, "--overwrite")
    succeeded("data", "info", "--data", interrupted)


@pytest.mark.parametrize("where", ["", "train", "train/w0000.gnt"])
def test_info_refuses_an_interrupted_dataset(interrupted, where):
    refused("data", "info", "--data", interrupted / where,
            names=("interrupted", "--overwrite"))


MANIFESTS = {
    "not JSON": ("{", "manifest.json"),
    "a list": ("[]", "manifest.json"),
    "no splits": (json.dumps({"generator": "model.data.synth", "classes": 4}), "splits"),
    "no classes": (json.dumps({"generator": "model.data.synth", "splits": {}}), "classes"),
}


@pytest.mark.parametrize("case", MANIFESTS)
def test_info_refuses_a_corrupt_manifest(tiny_data, copy, case):
    data = copy(tiny_data, "data")
    text, key = MANIFESTS[case]
    (data / "manifest.json").write_text(text)
    refused("data", "info", "--data", data / "train", names=("manifest.json", key))


@pytest.mark.parametrize("kind, says", [("garbage", "byte 0"), ("no_gnt", "no .gnt files"),
                                        ("missing", "no such")])
def test_info_bad_data(gnt, kind, says):
    refused("data", "info", "--data", gnt[kind], names=(gnt[kind].name, says))


@pytest.mark.parametrize("option, value", [("--chars", "0"), ("--writers", "-1")])
def test_preview_bad_option(tiny_data, tmp_path, option, value):
    refused("data", "preview", "--data", tiny_data / "train", "--out", tmp_path / "p.png",
            option, value, names=(option,), clean=tmp_path)


@pytest.mark.parametrize("where", ["folder", "under_file", "proc", "suffix"])
def test_preview_bad_out(tiny_data, a_file, tmp_path, where):
    out = {"folder": tmp_path, "under_file": a_file / "p.png", "proc": "/proc/hccr/p.png",
           "suffix": tmp_path / "p.txt"}[where]
    refused("data", "preview", "--data", tiny_data / "train", "--out", out, names=("--out",),
            clean=tmp_path)
    assert not (tmp_path / "p.txt").exists()


@pytest.mark.parametrize("kind", ["empty", "garbage", "missing", "all_bad"])
def test_preview_bad_data(gnt, tmp_path, kind):
    refused("data", "preview", "--data", gnt[kind], "--out", tmp_path / "p.png",
            names=(gnt[kind].name,))
    assert not (tmp_path / "p.png").exists()
