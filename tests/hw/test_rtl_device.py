"""`hccr rtl --device D`: the design `hccr report` plans for D. A network that fits gets the
planner's dataflow folding (packing included); one that does not gets the layer-sequential
engine the report plans on D's board (same configuration, batch and cycles); a device without
a known board, and a folding or engine size given beside --device, are one-line errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
from ir_factory import single_op
from test_rtl_network import small_net
from typer.testing import CliRunner

from flow.cli import app
from hw.devices import device
from hw.estimate import calibration
from hw.estimate.plan import optimise
from hw.gen.engines import Folding
from quant import ir

cli = CliRunner()


def hccr(*args: object, code: int = 0):
    result = cli.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_a_network_that_fits_gets_the_planned_dataflow_folding(tmp_path) -> None:
    model = small_net(np.random.default_rng(6))
    ir.save(model, tmp_path / "ir")
    plan = optimise(model, device("xc7z020"), calibration.load())
    want = {la.name: dataclasses.asdict(la.fold) for la in plan.layers
            if la.fold != Folding()}
    assert plan.fits and want, "the planner should fold at least one layer"
    out = hccr("rtl", "--ir", tmp_path / "ir", "--out", tmp_path / "rtl", "--device",
               "xc7z020")
    assert "dataflow design fits" in " ".join(out.output.split())
    desc = json.loads((tmp_path / "rtl" / "network.json").read_text())
    assert desc["folding"] == want
    assert not (tmp_path / "rtl" / "engine.json").exists()


def test_a_network_that_does_not_fit_gets_the_reports_sequential_engine(tmp_path) -> None:
    # 2048 × 2048 int8 weights: 4 MiB, more block RAM than xc7z020 has (630 KiB)
    model = single_op("dense", np.random.default_rng(3), shape=(1, 1, 2048), cout=2048)
    ir.save(model, tmp_path / "ir")
    report = json.loads(hccr("report", "--ir", tmp_path / "ir", "--device", "xc7z020",
                             "--json").stdout)["sequential"]
    out = hccr("rtl", "--ir", tmp_path / "ir", "--out", tmp_path / "seq", "--device",
               "xc7z020")
    text = " ".join(out.output.split())
    assert "no dataflow design fits" in text and "layer-sequential engine for pynq-z2" in text
    meta = json.loads((tmp_path / "seq" / "engine.json").read_text())
    assert meta["board"] == report["board"] == "pynq-z2"
    assert meta["config"] == report["config"] and meta["batch"] == report["batch"]
    assert round(meta["cycles_per_image"]) == report["cycles"]
    assert not (tmp_path / "seq" / "network.json").exists()


def test_device_errors_are_one_line(tmp_path) -> None:
    model = small_net(np.random.default_rng(6))
    ir.save(model, tmp_path / "ir")
    (tmp_path / "fold.json").write_text(json.dumps({"conv1": {"PE": 2}}))
    for args, text in ((["--device", "xc7z010"], "no board known with xc7z010"),
                       (["--device", "xc7z020", "--balance"], "without --folding/--balance"),
                       (["--device", "xc7z020", "--folding", tmp_path / "fold.json"],
                        "without --folding/--balance"),
                       (["--device", "xc7z020", "--pe", 4], "plans the engine: give it "
                                                            "without --pe")):
        res = hccr("rtl", "--ir", tmp_path / "ir", "--out", tmp_path / "rtl", *args, code=1)
        assert res.output.startswith("error:") and text in " ".join(res.output.split())
        assert not (tmp_path / "rtl").exists()
