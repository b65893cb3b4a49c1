"""tools/seed_chains.sh: each step after the ones it starts from; finished steps skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "seed_chains.sh"


def _dry(out: Path, *steps: str) -> list[str]:
    result = subprocess.run([str(SCRIPT), str(out), *steps], capture_output=True, text=True,
                            env={**os.environ, "DRY": "1"}, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_step_runs_after_its_sources_and_skips_finished_ones(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "merge.json").write_text("{}")
    (tmp_path / "s002-cnn9").mkdir()
    (tmp_path / "s002-cnn9" / "metrics.json").write_text("{}")
    lines = _dry(tmp_path, "s002-cluster")
    commands = [line for line in lines if line.startswith("+ ") and "hccr" in line]
    assert lines[0] == "s002-cnn9: done"
    assert [c.split()[2:4] for c in commands] == [["compress", "gslre"], ["prune", "--method"],
                                                   ["compress", "cluster"]]
    assert f"--from {tmp_path}/s002-adw" in commands[2]
    assert not any("data synth" in line for line in lines)


def test_distillation_steps_use_the_papers_weights(tmp_path):
    lines = _dry(tmp_path, "s001-kd-0.6", "s003-kd-sp")
    kd = [line for line in lines if " distill " in line]
    assert f"--student {tmp_path}/s001-slim-0.6" in kd[0] and "--temperature 5" in kd[0]
    assert "--alpha 0.8 --beta 0.2 --sp-weight 0.1" in kd[1] and "--sp-pair" in kd[1]
    assert any("prune --method slimming --ratio 0.6" in line for line in lines)


def test_unknown_step_is_an_error(tmp_path):
    result = subprocess.run([str(SCRIPT), str(tmp_path), "s009"], capture_output=True,
                            text=True, env={**os.environ, "DRY": "1"}, check=False)
    assert result.returncode == 1 and "error: unknown step s009" in result.stderr
