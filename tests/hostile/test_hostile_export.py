"""`hccr export`: nothing it did not create is deleted; bad qat.pt; bad output places."""

from __future__ import annotations

import pytest
import torch
from conftest import UNWRITABLE, refused, refused_out, succeeded

from quant import ir


def test_keeps_an_unrelated_folder(tiny_qat, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work\n")
    (out / "sub").mkdir()
    refused("export", "--qat", tiny_qat, "--out", out, names=("mine", "--overwrite"),
            clean=tmp_path)
    assert (out / "thesis.tex").read_text() == "years of work\n" and (out / "sub").is_dir()


def test_keeps_an_ir_folder_with_files_of_its_own(tiny_qat, tiny_ir, copy, tmp_path):
    out = copy(tiny_ir, "ir")
    (out / "notes.txt").write_text("mine\n")
    refused("export", "--qat", tiny_qat, "--out", out, names=("notes.txt", "--overwrite"))
    assert (out / "notes.txt").exists()


def test_replaces_its_own_output_and_overwrites_when_asked(tiny_qat, tiny_ir, copy, tmp_path):
    out = copy(tiny_ir, "ir")
    succeeded("export", "--qat", tiny_qat, "--out", out)
    assert ir.load(out).ops
    (out / "notes.txt").write_text("mine\n")
    succeeded("export", "--qat", tiny_qat, "--out", out, "--overwrite")
    assert not (out / "notes.txt").exists() and not list(tmp_path.glob("*.partial"))


def test_creates_missing_parents(tiny_qat, tmp_path):
    succeeded("export", "--qat", tiny_qat, "--out", tmp_path / "a" / "b" / "ir")
    assert ir.load(tmp_path / "a" / "b" / "ir").ops


@pytest.mark.parametrize("where", UNWRITABLE)
def test_bad_out(tiny_qat, a_file, tmp_path, where):
    refused_out(where, a_file, tmp_path, "ir", "export", "--qat", tiny_qat)


@pytest.mark.parametrize("name", ["../evil", "a b;c", "x/y", "", "1abc", "naïve"])
def test_bad_model_name(tiny_qat, tmp_path, name):
    refused("export", "--qat", tiny_qat, "--out", tmp_path / "ir", "--name", name,
            names=("--name",), clean=tmp_path)
    assert not (tmp_path / "ir").exists()


QAT_CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:300]),
    "empty": lambda p: p.write_bytes(b""),
    "no config": lambda p: _edit(p, lambda c: c.pop("config")),
    "no train_config": lambda p: _edit(p, lambda c: c.pop("train_config")),
    "unknown config key": lambda p: _edit(p, lambda c: c["config"].update(bits=3)),
    "no classes": lambda p: _edit(p, lambda c: c.pop("classes")),
    "weights of another network": lambda p: _edit(p, lambda c: c.update(model={})),
    "missing": lambda p: p.unlink(),
}


def _edit(path, edit):
    ckpt = torch.load(path, weights_only=False)
    edit(ckpt)
    torch.save(ckpt, path)


@pytest.mark.parametrize("corruption", QAT_CORRUPTIONS)
def test_corrupt_qat_pt(tiny_qat, copy, tmp_path, corruption):
    qat = copy(tiny_qat, "qat")
    QAT_CORRUPTIONS[corruption](qat / "qat.pt")
    refused("export", "--qat", qat, "--out", tmp_path / "ir", names=("qat.pt",), clean=tmp_path)
    assert not (tmp_path / "ir").exists()
