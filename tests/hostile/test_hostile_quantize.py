"""`hccr quantize`: bad options, runs, data and output folders (all before fine-tuning)."""

from __future__ import annotations

import pytest
from conftest import refused


@pytest.fixture
def args(tiny_run, tiny_data, tmp_path):
    return ["quantize", "--run", tiny_run, "--train-data", tiny_data / "train",
            "--test-data", tiny_data / "test", "--out", tmp_path / "qat", "--epochs", 1]


@pytest.mark.parametrize("option, value", [
    ("--epochs", "0"), ("--epochs", "-1"), ("--lr", "nan"), ("--lr", "-0.1"), ("--lr", "inf"),
    ("--weight-bits", "fc=9"), ("--weight-bits", "fc=1"), ("--weight-bits", "fc=x"),
    ("--weight-bits", "fc"), ("--weight-bits", "nolayer=4"), ("--seed", "-1"),
])
def test_bad_option(args, tmp_path, option, value):
    refused(*args, option, value, names=(option,), clean=tmp_path)
    assert not (tmp_path / "qat").exists()


@pytest.mark.parametrize("kind", ["empty", "garbage", "missing", "no_gnt"])
@pytest.mark.parametrize("which", ["--train-data", "--test-data"])
def test_bad_data(args, gnt, tmp_path, kind, which):
    args[args.index(which) + 1] = gnt[kind]
    refused(*args, names=(gnt[kind].name,), clean=tmp_path)
    assert not (tmp_path / "qat").exists()


def test_run_without_or_with_a_corrupt_model_pt(args, tiny_run, copy, tmp_path):
    run = copy(tiny_run, "run")
    (run / "model.pt").write_bytes(b"\x80\x02junk")
    args[args.index("--run") + 1] = run
    refused(*args, names=("model.pt",))
    (run / "model.pt").unlink()
    refused(*args, names=("model.pt",))


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_bad_out(args, a_file, tmp_path, where):
    args[args.index("--out") + 1] = {"file": a_file, "under_file": a_file / "q",
                                     "proc": "/proc/hccr/q"}[where]
    refused(*args, names=("--out",), clean=tmp_path)
