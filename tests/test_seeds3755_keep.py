"""tools/seeds3755_keep.py: a seeds3755 run saved, then restored on a machine without it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"
_spec = importlib.util.spec_from_file_location("seeds3755_keep", TOOLS / "seeds3755_keep.py")
keep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(keep)


def _run(out: Path) -> None:
    """A run stopped during `asfp`: data, float (with its QAT) done, asfp half trained."""
    files = {"knobs": "CLASSES=3755", "done/data": "196", "done/float": "3600",
             "done/float-qat": "600",
             "done/float-golden": "300", "float.log": "log", "data/manifest.json": "{}",
             "data/train/0.png": "x", "float/model.pt": "m", "float/checkpoint.pt": "c",
             "float/metrics.json": "{}", "float/int8/model.pt": "q",
             "float/golden.npz": "g", "float/hls/csim.log": "h", "float/rtl/obj/x.o": "o",
             "asfp/checkpoint.pt": "a", "done/val_data": "9", "val_data/manifest.json": "{}"}
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)


def test_save_keeps_what_resumes_and_drops_what_is_remade(tmp_path):
    out, saved = tmp_path / "out", tmp_path / "keep"
    _run(out)
    keep.save(out, saved)
    got = sorted(str(p.relative_to(saved)) for p in saved.rglob("*") if p.is_file())
    assert got == ["asfp/checkpoint.pt", "done/float", "done/float-qat", "float.log",
                   "float/int8/model.pt", "float/metrics.json", "float/model.pt", "knobs"]


def test_restore_fills_a_fresh_folder_and_never_undoes_newer_work(tmp_path):
    out, saved, fresh = tmp_path / "out", tmp_path / "keep", tmp_path / "fresh"
    _run(out)
    keep.save(out, saved)
    keep.restore(saved, fresh)
    assert (fresh / "asfp" / "checkpoint.pt").read_text() == "a"
    assert not (fresh / "done" / "data").exists()  # the data step runs again
    newer = fresh / "asfp" / "checkpoint.pt"
    newer.write_text("later epoch")
    os.utime(newer, (newer.stat().st_mtime + 60,) * 2)
    keep.restore(saved, fresh)
    assert newer.read_text() == "later epoch"


def test_step_calls_after_step_only_when_a_step_finishes(tmp_path):
    script = (f"OUT={tmp_path}; source {TOOLS / 'step.sh'}; "
              "after_step() { echo saved >> \"$OUT/hook\"; }; "
              "step one true; step one true; step two false")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "error: step two failed" in result.stderr
    assert (tmp_path / "hook").read_text() == "saved\n"  # `one` once, skipped, `two` failed


def test_a_run_continues_only_with_the_knobs_it_started_with(tmp_path):
    (tmp_path / "done").mkdir()
    runs = [f"{run}{suffix}" for run in ("float", "asfp", "slim_x8")
            for suffix in ("", "-qat", "-export", "-golden")]
    for name in ["data", "val_data", *runs, "slim_x8-hls", "slim_x8-rtl"]:  # nothing runs
        (tmp_path / "done" / name).write_text("1")
    env = {**os.environ, "DEVICE": "cpu", "PY": "true", "CLASSES": "12", "WRITERS": "4"}
    run = [str(TOOLS / "seeds3755.sh"), str(tmp_path)]
    first = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == 0, first.stderr
    assert "WRITERS=4 " in (tmp_path / "knobs").read_text()
    other = subprocess.run(run, capture_output=True, text=True, env={**env, "WRITERS": "5"},
                           check=False)
    assert other.returncode == 1
    assert other.stderr.startswith(f"error: {tmp_path} was started with CLASSES=12 WRITERS=4")


def test_save_never_replaces_a_folder_that_is_not_a_save(tmp_path):
    out, other = tmp_path / "out", tmp_path / "mine"
    _run(out)
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match=r"^error: .*mine: not an earlier save"):
        keep.save(out, other)
    assert (other / "notes.txt").read_text() == "mine"
    keep.save(out, tmp_path / "keep")
    keep.save(out, tmp_path / "keep")  # an earlier save is replaced
