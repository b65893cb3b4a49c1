import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from flow import cmd_data
from flow.cli import app
from model.data import preview
from model.data.gnt import encode_record

runner = CliRunner()


@pytest.fixture(scope="module")
def data(make_data) -> Path:
    return make_data(12, 3, 2, seed=5)


def _one_line_error(result, *fragments: str) -> None:
    """Exit 1 with the reason on the last line (a progress bar may precede it)."""
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.output, result.output
    assert sum(line.startswith("error: ") for line in lines) == 1
    for fragment in fragments:
        assert fragment in lines[-1]


def test_synth_writes_both_splits_and_reports_speed(tmp_path):
    result = runner.invoke(app, ["data", "synth", "--classes", "4", "--per-class", "2",
                                 "--test-per-class", "1", "--out", str(tmp_path),
                                 "--seed", "3", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert re.search(r"12 images in [\d.]+ s = \d+ images/s", result.output)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["images"] == 12
    assert {s: v["writers"] for s, v in manifest["splits"].items()} == {"train": 2, "test": 1}
    assert sorted(p.name for p in (tmp_path / "train").iterdir()) == ["w0000.gnt", "w0001.gnt"]
    assert [p.name for p in (tmp_path / "test").iterdir()] == ["w0000.gnt"]


def test_synth_one_split_only(tmp_path):
    result = runner.invoke(app, ["data", "synth", "--classes", "2", "--per-class", "1",
                                 "--split", "test", "--out", str(tmp_path), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "train").exists() and (tmp_path / "test" / "w0000.gnt").is_file()


@pytest.mark.parametrize("args, fragments", [
    (["--split", "valid"], ["--split must be train, test or both", "'valid'"]),
    (["--classes", "0"], ["classes must be in 1..3755, got 0"]),
    (["--classes", "3756"], ["classes must be in 1..3755, got 3756"]),
    (["--per-class", "0"], ["--per-class must be >= 1"]),
    (["--test-per-class", "0"], ["--test-per-class must be >= 1"]),
    (["--workers", "0"], ["--workers must be >= 1"]),
    (["--seed", "-2"], ["seed must be >= 0"]),
])
def test_synth_bad_options_are_one_line_errors(tmp_path, args, fragments):
    result = runner.invoke(app, ["data", "synth", "--out", str(tmp_path), *args])
    _one_line_error(result, *fragments)
    assert not list(tmp_path.iterdir())


def test_synth_fonts_without_cjk_fonts_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cmd_data, "find_cjk_fonts", lambda: [])
    result = runner.invoke(app, ["data", "synth", "--out", str(tmp_path), "--fonts"])
    _one_line_error(result, "--fonts", "no CJK font")


def test_synth_refuses_an_existing_dataset(data):
    result = runner.invoke(app, ["data", "synth", "--out", str(data), "--workers", "1"])
    _one_line_error(result, "already holds a dataset", "--overwrite")


def test_info_counts_files_records_and_classes(data):
    result = runner.invoke(app, ["data", "info", "--data", str(data)])
    assert result.exit_code == 0, result.output
    for line in ["files: 5", "records: 60", "classes: 12", "samples per class: 5..5",
                 "skipped bad records: 0"]:
        assert line in result.output


def test_info_on_corrupt_data(tmp_path):
    bad = tmp_path / "bad.gnt"
    good = encode_record(bytes([0xB0, 0xA1]), np.full((3, 4), 7, np.uint8))
    bad.write_bytes(good + good[:12])
    result = runner.invoke(app, ["data", "info", "--data", str(bad)])
    _one_line_error(result, "bad.gnt", "byte 22", "truncated")
    result = runner.invoke(app, ["data", "info", "--data", str(bad), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "records: 1" in result.output and "skipped bad records: 1" in result.output


def test_info_on_a_missing_path(tmp_path):
    result = runner.invoke(app, ["data", "info", "--data", str(tmp_path / "nope")])
    _one_line_error(result, "nope: no such file or folder")


@pytest.mark.parametrize("preprocessed", [True, False])
def test_preview_grid_has_one_row_per_class_and_one_column_per_writer(data, tmp_path,
                                                                       preprocessed):
    out = tmp_path / "sub" / "preview.png"
    flag = "--preprocessed" if preprocessed else "--no-preprocessed"
    result = runner.invoke(app, ["data", "preview", "--data", str(data / "train"), "--out",
                                 str(out), "--chars", "4", "--writers", "8", flag])
    assert result.exit_code == 0, result.output
    assert "4 classes × 3 writers" in result.output
    image = Image.open(out)
    assert image.format == "PNG"
    cell = preview.RAW + preview.PAD + (preview.PRE + preview.PAD if preprocessed else 0)
    assert image.size == (preview.LABEL + 3 * cell + preview.PAD, 4 * (preview.RAW + preview.PAD)
                          + preview.PAD)
    assert image.size == preview.grid_size(4, 3, preprocessed)
    pixels = np.asarray(image)
    assert (pixels < 100).mean() > 0.005  # ink and labels were drawn


def test_preview_rows_are_spread_over_the_classes(data):
    samples = preview.collect(data / "test", chars=3, writers=2)
    assert sorted(samples) == [0, 6, 11]
    assert all(len(v) == 2 for v in samples.values())


def test_preview_errors_are_one_line(tmp_path):
    result = runner.invoke(app, ["data", "preview", "--data", str(tmp_path), "--out",
                                 str(tmp_path / "p.png")])
    _one_line_error(result, "no .gnt files found")
    result = runner.invoke(app, ["data", "preview", "--data", str(tmp_path), "--out",
                                 str(tmp_path / "p.png"), "--chars", "0"])
    _one_line_error(result, "--chars must be >= 1")
