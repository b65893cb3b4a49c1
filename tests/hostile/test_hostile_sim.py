"""`hccr sim`: bad RTL folders (network.json corrupt in every way), images and options. Every
case fails before Verilator starts."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SIZE, refused


def _network_json(rtl, edit):
    path = rtl / "network.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


NETWORK_JSON = {
    "no fifo_depth": (lambda d: d.pop("fifo_depth"), "fifo_depth"),
    "no files": (lambda d: d.pop("files"), "files"),
    "no top": (lambda d: d.pop("top"), "top"),
    "no config_hash": (lambda d: d.pop("config_hash"), "config_hash"),
    "fifo_depth a string": (lambda d: d.update(fifo_depth="deep"), "fifo_depth"),
    "folding not an object": (lambda d: d.update(folding=[1]), "folding"),
    "folding with an unknown key": (lambda d: d.update(folding={"conv1": {"lanes": 2}}),
                                    "folding"),
    "files not a list": (lambda d: d.update(files="top.sv"), "files"),
    "file outside the folder": (lambda d: d["files"].append("../../etc/passwd"), "files"),
}


@pytest.mark.parametrize("case", NETWORK_JSON)
def test_corrupt_network_json(tiny_rtl, copy, case):
    rtl = copy(tiny_rtl, "rtl")
    edit, key = NETWORK_JSON[case]
    _network_json(rtl, edit)
    refused("sim", "--rtl", rtl, names=("network.json", key))


@pytest.mark.parametrize("text", ["", "{", "[]", "null"])
def test_unreadable_network_json(tiny_rtl, copy, text):
    rtl = copy(tiny_rtl, "rtl")
    (rtl / "network.json").write_text(text)
    refused("sim", "--rtl", rtl, names=("network.json",))


@pytest.mark.parametrize("n", ["0", "-1"])
def test_bad_image_count(tiny_rtl, n):
    refused("sim", "--rtl", tiny_rtl, "--images", n, names=("--images",))


def test_more_images_than_given(tiny_rtl, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, SIZE, SIZE), np.uint8))
    refused("sim", "--rtl", tiny_rtl, "--inputs", tmp_path / "x.npy", "--images", 5,
            names=("x.npy", "5"))


@pytest.mark.parametrize("x, says", [(np.zeros((0, SIZE, SIZE), np.uint8), "no images"),
                                     (np.zeros((2, 5, 5), np.uint8), "[2, 5, 5]"),
                                     (np.full((2, SIZE, SIZE), 0.5), "float64"),
                                     (np.full((2, SIZE, SIZE), 999), "999")])
def test_bad_inputs(tiny_rtl, tmp_path, x, says):
    np.save(tmp_path / "x.npy", x)
    refused("sim", "--rtl", tiny_rtl, "--inputs", tmp_path / "x.npy", "--images", 1,
            names=("x.npy", says))


def test_unreadable_inputs(tiny_rtl, tmp_path):
    (tmp_path / "x.npy").write_text("no")
    refused("sim", "--rtl", tiny_rtl, "--inputs", tmp_path / "x.npy", names=("x.npy",))


@pytest.mark.parametrize("kind", ["empty", "garbage", "missing"])
def test_bad_data(tiny_rtl, gnt, kind):
    refused("sim", "--rtl", tiny_rtl, "--data", gnt[kind], names=(gnt[kind].name,))


def test_bad_backpressure_and_both_sources(tiny_rtl, tiny_data, tmp_path):
    refused("sim", "--rtl", tiny_rtl, "--backpressure", "often", names=("--backpressure",))
    np.save(tmp_path / "x.npy", np.zeros((2, SIZE, SIZE), np.uint8))
    refused("sim", "--rtl", tiny_rtl, "--data", tiny_data / "test", "--inputs",
            tmp_path / "x.npy", names=("--inputs",))


def test_not_an_rtl_folder(tmp_path, a_file):
    refused("sim", "--rtl", tmp_path / "nope", names=("nope",))
    refused("sim", "--rtl", a_file, names=("a_file",))
