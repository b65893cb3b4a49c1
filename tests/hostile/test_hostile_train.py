"""`hccr train`: bad options, data and output folders."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SIZE, refused

from model.data.classes import tag_of_class
from model.data.gnt import write_gnt


@pytest.fixture
def args(tiny_data, tmp_path):
    return ["train", "--train-data", tiny_data / "train", "--test-data", tiny_data / "test",
            "--run", tmp_path / "run", "--size", SIZE, "--epochs", 1]


@pytest.mark.parametrize("option, value", [
    ("--lr", "nan"), ("--lr", "-1"), ("--lr", "inf"), ("--lr", "0"),
    ("--epochs", "0"), ("--epochs", "-1"),
    ("--batch-size", "0"), ("--batch-size", "-3"),
    ("--size", "7"), ("--size", "0"), ("--size", "-16"),
    ("--label-smoothing", "1.5"), ("--label-smoothing", "1.0"), ("--label-smoothing", "-0.1"),
    ("--label-smoothing", "nan"),
    ("--optimizer", "rmsprop"), ("--arch", "resnet1000"), ("--device", "tpu"),
    ("--seed", "-1"),
])
def test_bad_option(args, tmp_path, option, value):
    refused(*args, option, value, names=(option, value), clean=tmp_path)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("which", ["--train-data", "--test-data"])
@pytest.mark.parametrize("kind, says", [("empty", "no images"), ("garbage", "byte 0"),
                                        ("no_gnt", "no .gnt files"), ("missing", "no such")])
def test_bad_data(args, gnt, tmp_path, which, kind, says):
    args[args.index(which) + 1] = gnt[kind]
    refused(*args, names=(gnt[kind].name, says), clean=tmp_path)
    assert not (tmp_path / "run").exists()


def test_all_records_bad_with_skip_bad(args, gnt, tmp_path):
    args[args.index("--train-data") + 1] = gnt["all_bad"]
    refused(*args, "--skip-bad", names=("all_bad.gnt", "no images", "3 corrupt"))


def test_test_data_of_other_classes(args, tmp_path):
    other = tmp_path / "other.gnt"
    write_gnt(other, [(tag_of_class(10), np.full((5, 5), 9, np.uint8))])
    args[args.index("--test-data") + 1] = other
    refused(*args, names=("other.gnt", "none of"))


def test_interrupted_dataset(args, tiny_data, copy, tmp_path):
    data = copy(tiny_data, "interrupted")
    (data / "manifest.json").rename(data / "manifest.json.partial")
    args[args.index("--train-data") + 1] = data / "train"
    refused(*args, names=("interrupted", "--overwrite"))


@pytest.mark.parametrize("where", ["file", "under_file", "proc"])
def test_bad_run_folder(args, a_file, tmp_path, where):
    run = {"file": a_file, "under_file": a_file / "run", "proc": "/proc/hccr/run"}[where]
    args[args.index("--run") + 1] = run
    refused(*args, names=("--run",), clean=tmp_path)


def test_resume_from_a_truncated_checkpoint(args, tiny_run, copy, tmp_path):
    run = copy(tiny_run, "run")
    (run / "checkpoint.pt").write_bytes((tiny_run / "checkpoint.pt").read_bytes()[:100])
    refused(*args, "--resume", names=("checkpoint.pt",))
