"""`hccr golden`: empty and edge inputs, bad arrays, bad output paths, bad IR folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SIZE, refused, succeeded


@pytest.mark.parametrize("limit", ["0", "-1", "-100"])
def test_bad_limit(tiny_ir, tiny_data, tmp_path, limit):
    refused("golden", "--ir", tiny_ir, "--data", tiny_data / "test", "--out",
            tmp_path / "g.npz", "--limit", limit, names=("--limit", limit), clean=tmp_path)
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize("kind, says", [("empty", "no images"), ("garbage", "byte 0"),
                                        ("no_gnt", "no .gnt files"), ("missing", "no such")])
def test_bad_data(tiny_ir, gnt, tmp_path, kind, says):
    refused("golden", "--ir", tiny_ir, "--data", gnt[kind], "--out", tmp_path / "g.npz",
            names=(gnt[kind].name, says), clean=tmp_path)
    assert not (tmp_path / "g.npz").exists()


def test_all_records_bad_with_skip_bad(tiny_ir, gnt, tmp_path):
    refused("golden", "--ir", tiny_ir, "--data", gnt["all_bad"], "--skip-bad", "--out",
            tmp_path / "g.npz", names=("all_bad.gnt", "no images"), clean=tmp_path)
    assert not (tmp_path / "g.npz").exists()


ARRAYS = {
    "empty": (np.zeros((0, SIZE, SIZE, 1), np.uint8), "no images"),
    "wrong shape": (np.zeros((2, 8, 8, 1), np.uint8), "[2, 8, 8, 1]"),
    "one image without N": (np.zeros((SIZE, SIZE, 1), np.uint8), "[16, 16, 1]"),
    "float": (np.zeros((2, SIZE, SIZE, 1), np.float32), "float32"),
    "out of range": (np.full((2, SIZE, SIZE, 1), 300, np.int32), "300"),
    "negative for uint8": (np.full((2, SIZE, SIZE, 1), -1, np.int16), "-1"),
    "0-d": (np.array(3), "[]"),
}


@pytest.mark.parametrize("case", ARRAYS)
def test_bad_inputs_array(tiny_ir, tmp_path, case):
    x, says = ARRAYS[case]
    np.save(tmp_path / "x.npy", x)
    refused("golden", "--ir", tiny_ir, "--inputs", tmp_path / "x.npy", "--out",
            tmp_path / "g.npz", names=("x.npy", says), clean=tmp_path)
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize("how", ["text", "npz", "missing", "pickled objects"])
def test_unreadable_inputs(tiny_ir, tmp_path, how):
    path = tmp_path / "x.npy"
    if how == "text":
        path.write_text("1 2 3\n")
    elif how == "npz":
        np.savez(tmp_path / "x", a=np.zeros(3))
        (tmp_path / "x.npz").rename(path)
    elif how == "pickled objects":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    refused("golden", "--ir", tiny_ir, "--inputs", path, "--out", tmp_path / "g.npz",
            names=("x.npy",), clean=tmp_path)


def test_both_or_neither_source(tiny_ir, tiny_data, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, SIZE, SIZE, 1), np.uint8))
    refused("golden", "--ir", tiny_ir, "--out", tmp_path / "g.npz", names=("--data",))
    refused("golden", "--ir", tiny_ir, "--out", tmp_path / "g.npz", "--data", tiny_data / "test",
            "--inputs", tmp_path / "x.npy", names=("--inputs",))


@pytest.mark.parametrize("where", ["folder", "under_file", "proc", "suffix"])
def test_bad_out(tiny_ir, tiny_data, a_file, tmp_path, where):
    out = {"folder": tmp_path, "under_file": a_file / "g.npz", "proc": "/proc/hccr/g.npz",
           "suffix": tmp_path / "g.txt"}[where]
    refused("golden", "--ir", tiny_ir, "--data", tiny_data / "test", "--out", out,
            names=("--out",), clean=tmp_path)
    assert not (tmp_path / "g.txt").exists()


def test_out_in_a_missing_folder_is_created(tiny_ir, tiny_data, tmp_path):
    succeeded("golden", "--ir", tiny_ir, "--data", tiny_data / "test", "--out",
              tmp_path / "new" / "deeper" / "g.npz")
    assert (tmp_path / "new" / "deeper" / "g.npz").is_file()


LABELS = {
    "not JSON": "{classes: [",
    "not an object": "[1, 2, 3, 4]",
    "no classes": '{"chars": "abcd"}',
    "classes not integers": '{"classes": ["a", "b", "c", "d"]}',
    "too few classes": '{"classes": [0, 1]}',
    "class beyond GB2312": '{"classes": [0, 1, 2, 4000]}',
}


@pytest.mark.parametrize("case", LABELS)
def test_bad_labels_json(tiny_ir, tiny_data, copy, tmp_path, case):
    ir_dir = copy(tiny_ir, "ir")
    (ir_dir / "labels.json").write_text(LABELS[case])
    refused("golden", "--ir", ir_dir, "--data", tiny_data / "test", "--out", tmp_path / "g.npz",
            names=("labels.json",), clean=tmp_path)
    assert not (tmp_path / "g.npz").exists()


@pytest.mark.parametrize("name", ["../../escape", "conv 1; drop", "a.b", "1st", "x" * 300, "ünï"])
@pytest.mark.parametrize("what", ["op", "tensor"])
def test_names_that_are_not_identifiers(tiny_ir, tiny_data, copy, tmp_path, name, what):
    ir_dir = copy(tiny_ir, "ir")
    doc = json.loads((ir_dir / "model.json").read_text())
    op = doc["ops"][0]
    if what == "op":
        weights = np.load(ir_dir / "weights.npz")
        arrays = {(name + k[len(op["name"]):] if k.startswith(op["name"] + ".") else k): v
                  for k, v in weights.items()}
        np.savez(ir_dir / "weights.npz", **arrays)
        op["name"] = name
    else:
        old = op["output"]
        doc["tensors"][name] = doc["tensors"].pop(old)
        for o in doc["ops"]:
            o["inputs"] = [name if t == old else t for t in o["inputs"]]
        op["output"] = name
    (ir_dir / "model.json").write_text(json.dumps(doc))
    refused("golden", "--ir", ir_dir, "--data", tiny_data / "test", "--out",
            tmp_path / "g.npz", names=("not an identifier",), clean=tmp_path)

