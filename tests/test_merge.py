"""`hccr data merge`: per-class draws from several .gnt folders, or a given test set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from flow.cli import app
from model.data.classes import tag_of_class
from model.data.gnt import read_gnt, write_gnt

runner = CliRunner()


def _writer(path: Path, counts: dict[int, int], ink: int) -> None:
    """One .gnt file with `counts[c]` images of class c, each 3×2 filled with `ink`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_gnt(path, [(tag_of_class(c), np.full((3, 2), ink, np.uint8))
                     for c, n in counts.items() for _ in range(n)])


@pytest.fixture
def sources(tmp_path) -> tuple[Path, Path, Path]:
    hw10, hw11, icdar = tmp_path / "hw10", tmp_path / "hw11", tmp_path / "icdar"
    _writer(hw10 / "w001.gnt", {0: 3, 1: 3, 2: 1}, 10)
    _writer(hw10 / "w002.gnt", {0: 3, 1: 3}, 11)
    _writer(hw11 / "w501.gnt", {0: 4, 1: 4, 2: 2}, 12)
    with (hw11 / "w501.gnt").open("ab") as f:  # a record outside level 1 is skipped
        f.write((14).to_bytes(4, "little") + b"\xa1\xa1" + (2).to_bytes(2, "little")
                + (2).to_bytes(2, "little") + bytes(4))
    _writer(icdar / "c001.gnt", {0: 2, 1: 2, 2: 2}, 13)
    return hw10, hw11, icdar


def _labels(folder: Path) -> np.ndarray:
    return np.bincount([s.label for s in read_gnt(folder).samples], minlength=3)


def test_draws_disjoint_train_and_test_per_class(sources, tmp_path):
    hw10, hw11, _ = sources
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "merge", "--source", str(hw10), "--source", str(hw11),
                                 "--out", str(out), "--train-per-class", "5",
                                 "--test-per-class", "2", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert _labels(out / "test").tolist() == [2, 2, 2]
    assert _labels(out / "train").tolist() == [5, 5, 1]  # class 2 has only 3 images
    report = json.loads((out / "merge.json").read_text())
    assert report["skipped"] == 1 and report["source_images"] == 23
    ink = [int(s.image[0, 0]) for s in read_gnt(out).samples]
    assert sorted(set(ink)) == [10, 11, 12]  # images come from both sources
    again = tmp_path / "again"
    runner.invoke(app, ["data", "merge", "--source", str(hw10), "--source", str(hw11), "--out",
                        str(again), "--train-per-class", "5", "--test-per-class", "2",
                        "--seed", "1"])
    for split in ("train", "test"):
        a = sorted(p.name for p in (out / split).iterdir())
        assert a == sorted(p.name for p in (again / split).iterdir())
        assert all((out / split / n).read_bytes() == (again / split / n).read_bytes() for n in a)


def test_icdar_set_is_the_test_split_and_every_source_image_trains(sources, tmp_path):
    hw10, hw11, icdar = sources
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "merge", "--source", str(hw10), "--source", str(hw11),
                                 "--test-source", str(icdar), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _labels(out / "train").tolist() == [10, 10, 3]
    assert _labels(out / "test").tolist() == [2, 2, 2]
    assert {int(s.image[0, 0]) for s in read_gnt(out / "test").samples} == {13}


@pytest.mark.parametrize("args, flag", [
    (["--train-per-class", "-1"], "--train-per-class"),
    (["--test-per-class", "0"], "--test-per-class"),
    (["--test-source", "/nonexistent/icdar"], "--test-source"),
])
def test_bad_options_give_one_error_line(sources, tmp_path, args, flag):
    result = runner.invoke(app, ["data", "merge", "--source", str(sources[0]), "--out",
                                 str(tmp_path / "o"), *args])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1
    assert lines[0].startswith("error:") and flag in lines[0]
