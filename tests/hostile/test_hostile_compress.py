"""`hccr compress gslre|cluster|size`: bad numbers, runs, data and output folders."""

from __future__ import annotations

import pytest
from conftest import refused, refused_missing_or_corrupt_run, refused_with, succeeded


@pytest.fixture
def data(tiny_data):
    return ["--train-data", tiny_data / "train", "--test-data", tiny_data / "test"]


@pytest.fixture
def gslre(tiny_run, data, tmp_path):
    return ["compress", "gslre", "--from", tiny_run, *data, "--run", tmp_path / "out"]


@pytest.fixture
def cluster(tiny_run, data, tmp_path):
    return ["compress", "cluster", "--from", tiny_run, *data, "--run", tmp_path / "out"]


@pytest.mark.parametrize("option, value", [
    ("--speedup", "1"), ("--speedup", "nan"), ("--speedup", "0.5"),
    ("--epochs-per-layer", "-1"), ("--finetune-epochs", "-1"), ("--lr", "0"),
    ("--lr", "inf"), ("--batch-size", "0"), ("--seed", "-1"), ("--device", "tpu"),
])
def test_gslre_bad_option(gslre, tmp_path, option, value):
    refused(*gslre, option, value, names=(option,), clean=tmp_path)
    assert not (tmp_path / "out").exists()


def test_gslre_refuses_a_network_that_is_not_cnn9(gslre, tmp_path):
    refused(*gslre, names=("--from", "cnn9", "baseline"), clean=tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value", [
    ("--bits", "0"), ("--bits", "9"), ("--index-bits", "0"), ("--index-bits", "17"),
    ("--epochs", "-1"), ("--lr", "nan"), ("--batch-size", "0"), ("--device", "tpu"),
])
def test_cluster_bad_option(cluster, tmp_path, option, value):
    refused(*cluster, option, value, names=(option,), clean=tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["gslre", "cluster"])
def test_source_run_missing_or_corrupt(request, tiny_run, copy, tmp_path, command):
    args = request.getfixturevalue(command)
    refused_missing_or_corrupt_run(args, "--from", tmp_path, copy(tiny_run, "src"),
                                   b"PK\x03\x04broken")


@pytest.mark.parametrize("kind", ["empty", "garbage", "no_gnt", "missing"])
def test_cluster_bad_data(cluster, gnt, tmp_path, kind):
    refused_with(cluster, "--train-data", gnt[kind], gnt[kind].name)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_bad_run_folder(cluster, a_file, where):
    cluster[cluster.index("--run") + 1] = a_file if where == "file" else a_file / "p"
    refused(*cluster, names=("--run",))
    assert a_file.read_text() == "not a folder\n"


def test_an_existing_run_folder_keeps_its_other_files(cluster, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep\n")
    succeeded(*cluster, "--epochs", 0)
    assert (out / "mine.txt").read_text() == "keep\n" and (out / "model.pt").is_file()


@pytest.mark.parametrize("option, value", [("--bits", "9"), ("--bits", "-1"),
                                           ("--index-bits", "0")])
def test_size_bad_option(tiny_run, option, value):
    refused("compress", "size", "--from", tiny_run, option, value, names=(option,))


def test_size_missing_or_corrupt_run(tiny_run, copy, tmp_path):
    refused_missing_or_corrupt_run(["compress", "size", "--from", tiny_run], "--from", tmp_path,
                                   copy(tiny_run, "src"), b"\x00" * 10)
