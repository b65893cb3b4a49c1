"""The CLI end to end: train/resume/eval, quantize/export/golden, and a tiny demo."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from base.rundir import sha256
from flow.cli import app
from model.data.gnt import encode_record
from quant import golden, ir

runner = CliRunner()


def hccr(*args: str, ok: bool = True):
    result = runner.invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(small_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("cli_run")
    hccr("train", "--train-data", small_data / "train", "--test-data", small_data / "test",
         "--run", run, "--size", 32, "--epochs", 1)
    return run


def test_resume_continues_from_the_checkpoint(trained, small_data):
    hccr("train", "--train-data", small_data / "train", "--test-data", small_data / "test",
         "--run", trained, "--size", 32, "--epochs", 1, "--resume")
    assert len(json.loads((trained / "metrics.json").read_text())["history"]) == 1
    # A different configuration must not silently resume from this checkpoint.
    result = hccr("train", "--train-data", small_data / "train", "--test-data",
                  small_data / "test", "--run", trained, "--size", 32, "--epochs", 3,
                  "--resume", ok=False)
    assert result.exit_code == 1
    assert "saved config differs" in result.output


def test_eval_json_line_and_unknown_classes(trained, small_data, tmp_path):
    line = hccr("eval", "--run", trained, "--data", small_data / "test", "--json").stdout
    result = json.loads(line.strip().splitlines()[-1])
    assert set(result) == {"images", "top1", "top5", "skipped"}
    assert (result["images"], result["skipped"]) == (1000, 0)
    assert 0 <= result["top1"] <= result["top5"] <= 1
    # Two records of a class the model never saw (class 3000) and one it knows (class 0).
    unknown = tmp_path / "mixed.gnt"
    image = np.full((20, 20), 255, np.uint8)
    image[5:15, 8:12] = 0
    unknown.write_bytes(encode_record(bytes([0xD0, 0xA1]), image) * 2
                        + encode_record(bytes([0xB0, 0xA1]), image))
    result = json.loads(hccr("eval", "--run", trained, "--data", unknown, "--json").stdout)
    assert (result["images"], result["skipped"]) == (1, 2)


def test_eval_reports_corrupt_files_on_one_line(trained, small_data, tmp_path):
    good = (small_data / "test" / "w0000.gnt").read_bytes()
    bad = tmp_path / "bad.gnt"
    bad.write_bytes(good[:-7])
    result = hccr("eval", "--run", trained, "--data", bad, ok=False)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0] and "truncated record" in lines[0]
    result = json.loads(hccr("eval", "--run", trained, "--data", bad, "--json",
                             "--skip-bad").stdout)
    assert result["images"] == 19


def test_quantize_export_golden_cli(trained, small_data, tmp_path):
    qat, ir_dir, out = tmp_path / "qat", tmp_path / "ir", tmp_path / "golden.npz"
    hccr("quantize", "--run", trained, "--train-data", small_data / "train", "--test-data",
         small_data / "test", "--out", qat, "--epochs", 1, "--weight-bits", "fc=6")
    hccr("export", "--qat", qat, "--out", ir_dir)
    assert not (tmp_path / "ir.partial").exists()
    model = ir.load(ir_dir)
    assert [op.name for op in model.ops][-1] == "fc" and model.ops[-1].weight_bits == 6
    printed = hccr("golden", "--ir", ir_dir, "--data", small_data / "test" / "w0001.gnt",
                   "--out", out).output
    assert "int8 golden top-1" in printed
    saved = np.load(out)
    assert set(saved.files) == set(model.tensors)
    x = saved["input"]
    assert x.shape == (20, 32, 32, 1)
    expected = golden.run(model, x)
    for name in model.tensors:
        np.testing.assert_array_equal(saved[name], expected[name])
        assert saved[name].shape == (20, *model.tensors[name].shape)
    np.save(tmp_path / "x.npy", x[:3])
    hccr("golden", "--ir", ir_dir, "--inputs", tmp_path / "x.npy", "--out", out)
    np.testing.assert_array_equal(np.load(out)["fc"], expected["fc"][:3])
    hccr("golden", "--ir", ir_dir, "--inputs", tmp_path / "x.npy", "--out", out,
         "--outputs-only")
    assert np.load(out).files == list(model.outputs)
    np.testing.assert_array_equal(np.load(out)["fc"], expected["fc"][:3])
    for args, message in [((), "exactly one of"),
                          (("--inputs", tmp_path / "x.npy", "--data", small_data), "exactly one"),
                          (("--inputs", tmp_path / "missing.npy"), "missing.npy: no such file")]:
        result = hccr("golden", "--ir", ir_dir, "--out", out, *args, ok=False)
        assert result.exit_code == 1 and message in result.output
    np.save(tmp_path / "wrong.npy", x[:, :16])
    result = hccr("golden", "--ir", ir_dir, "--out", out, "--inputs", tmp_path / "wrong.npy",
                  ok=False)
    assert "the model's input needs [N, 32, 32, 1]" in result.output


def test_export_refuses_missing_runs(tmp_path):
    result = hccr("export", "--qat", tmp_path, "--out", tmp_path / "ir", ok=False)
    assert result.exit_code == 1 and "qat.pt: not found" in result.output


@pytest.mark.slow
def test_tiny_demo_writes_report_and_manifest(tmp_path):
    torch.manual_seed(0)
    hccr("demo", "--runs", tmp_path, "--name", "tiny", "--classes", 6, "--train-writers", 3,
         "--test-writers", 2, "--epochs", 1, "--size", 32)
    run = tmp_path / "tiny"
    report = (run / "report.md").read_text()
    for heading in ("## Data", "## Training", "## Float accuracy", "## Quantization",
                    "## Timings"):
        assert heading in report
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["config"]["seed"] == 0 and manifest["versions"]["torch"].startswith("2.13")
    assert {s["stage"] for s in manifest["stages"]} >= {"data", "train", "eval", "golden"}
    assert manifest["artefacts"]
    for rel, digest in manifest["artefacts"].items():
        assert sha256(run / rel) == digest, rel
    assert (run / "ir" / "model.json").exists() and (run / "data" / "preview.png").exists()
