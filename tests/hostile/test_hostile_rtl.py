"""`hccr rtl`: names used as paths and identifiers, bad folding files, output folders, and a
SIGTERM in the middle of a run."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
from conftest import UNWRITABLE, hccr, leftovers, refused, refused_out

from hw.gen import rtl_dir


def _rename_op(ir_dir, name):
    doc = json.loads((ir_dir / "model.json").read_text())
    op = doc["ops"][0]
    weights = dict(np.load(ir_dir / "weights.npz"))
    arrays = {(name + k[len(op["name"]):] if k.startswith(op["name"] + ".") else k): v
              for k, v in weights.items()}
    np.savez(ir_dir / "weights.npz", **arrays)
    op["name"] = name
    (ir_dir / "model.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("name", ["../../outside", "conv 1; wire x", "conv1.w", "module-1",
                                  "$root", "a\nb"])
def test_layer_names_that_are_not_identifiers(tiny_ir, copy, tmp_path, name):
    ir_dir = copy(tiny_ir, "ir")
    _rename_op(ir_dir, name)
    refused("rtl", "--ir", ir_dir, "--out", tmp_path / "out" / "rtl",
            names=("not an identifier",), clean=tmp_path)
    assert not (tmp_path / "out").exists() and not list(tmp_path.rglob("*.mem"))


FOLDINGS = {
    "not JSON": ("{conv1: ", "fold.json"),
    "a list": ("[1, 2]", "fold.json"),
    "PE a string": ('{"conv1": {"PE": "four"}}', "conv1"),
    "PE negative": ('{"conv1": {"PE": -2}}', "conv1"),
    "PE a float": ('{"conv1": {"PE": 1.5}}', "conv1"),
    "layer not an object": ('{"conv1": 4}', "conv1"),
    "unknown layer": ('{"conv99": {"PE": 1}}', "conv99"),
}


@pytest.mark.parametrize("case", FOLDINGS)
def test_bad_folding_file(tiny_ir, tmp_path, case):
    text, says = FOLDINGS[case]
    (tmp_path / "fold.json").write_text(text)
    refused("rtl", "--ir", tiny_ir, "--out", tmp_path / "rtl", "--folding",
            tmp_path / "fold.json", names=(says,), clean=tmp_path)
    assert not (tmp_path / "rtl").exists()


def test_folding_file_missing_or_a_folder(tiny_ir, tmp_path):
    refused("rtl", "--ir", tiny_ir, "--out", tmp_path / "rtl", "--folding", tmp_path / "no.json",
            names=("no.json",), clean=tmp_path)
    refused("rtl", "--ir", tiny_ir, "--out", tmp_path / "rtl", "--folding", tmp_path,
            names=("--folding",), clean=tmp_path)


def test_folding_and_balance(tiny_ir, tmp_path):
    (tmp_path / "fold.json").write_text("{}")
    refused("rtl", "--ir", tiny_ir, "--out", tmp_path / "rtl", "--folding",
            tmp_path / "fold.json", "--balance", names=("--balance",))


@pytest.mark.parametrize("where", UNWRITABLE)
def test_bad_out(tiny_ir, a_file, tmp_path, where):
    refused_out(where, a_file, tmp_path, "rtl", "rtl", "--ir", tiny_ir)


def test_ir_missing(tmp_path):
    refused("rtl", "--ir", tmp_path / "nope", "--out", tmp_path / "rtl", names=("nope",))


def test_sigterm_leaves_no_temporary_folder(tiny_ir, tmp_path, monkeypatch):
    real = rtl_dir.generate

    def generate_then_terminated(*args, **kwargs):
        real(*args, **kwargs)  # the temporary folder is full now
        assert leftovers(tmp_path)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(rtl_dir, "generate", generate_then_terminated)
    result = hccr("rtl", "--ir", tiny_ir, "--out", tmp_path / "rtl")
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert not leftovers(tmp_path) and not (tmp_path / "rtl").exists()
