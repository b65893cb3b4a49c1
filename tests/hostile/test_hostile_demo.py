"""`hccr demo` and `hccr nets table`: names used as paths, bad counts, folders that are not
the demo's (all refused before any stage runs)."""

from __future__ import annotations

import pytest
from conftest import refused


@pytest.mark.parametrize("option, value", [
    ("--name", "../escape"), ("--name", "a b"), ("--name", ""), ("--name", "x/y"),
    ("--classes", "0"), ("--classes", "4000"), ("--train-writers", "0"),
    ("--test-writers", "-1"), ("--size", "7"), ("--size", "0"), ("--epochs", "0"),
    ("--workers", "0"), ("--seed", "-1"),
])
def test_bad_option(tmp_path, option, value):
    refused("demo", "--runs", tmp_path, option, value, names=(option,), clean=tmp_path)
    assert not list(tmp_path.iterdir())


def test_keeps_a_folder_that_is_not_a_demo_run(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "keep.txt").write_text("mine\n")
    refused("demo", "--runs", tmp_path, names=("demo", "--overwrite"))
    assert (tmp_path / "demo" / "keep.txt").read_text() == "mine\n"


def test_runs_folder_is_a_file(a_file):
    refused("demo", "--runs", a_file, names=("--runs",))


@pytest.mark.parametrize("value", ["0", "-5"])
def test_nets_table_bad_bottleneck(value):
    refused("nets", "table", "--bottleneck", value, names=("--bottleneck",))
