"""`hccr report`: the JSON line, report.html with plots, hls4ml figures beside ours, errors."""

from __future__ import annotations

import json

import numpy as np
from test_estimate import chain
from typer.testing import CliRunner

from flow.cli import app
from quant import ir

runner = CliRunner()
KEYS = {"device", "fits", "lut", "ff", "dsp", "bram36", "cycles", "images_per_s", "clock_mhz"}


def _ir(tmp_path):
    model = chain(np.random.default_rng(0), 32, (16, 32), 50)
    ir.save(model, tmp_path / "ir")
    return tmp_path / "ir"


def test_json_is_one_line_with_the_required_keys(tmp_path) -> None:
    res = runner.invoke(app, ["report", "--ir", str(_ir(tmp_path)), "--device", "xc7z020",
                              "--clock-mhz", "150", "--json"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert set(doc) >= KEYS and doc["device"] == "xc7z020" and doc["clock_mhz"] == 150
    assert doc["fits"] is True and doc["images_per_s"] == round(150e6 / doc["cycles"], 1)


def test_out_writes_html_with_plots_and_the_csynth_figures(tmp_path) -> None:
    hls = tmp_path / "hls" / "hccr_prj" / "solution1" / "syn" / "report"
    hls.mkdir(parents=True)
    (hls / "hccr_csynth.xml").write_text(CSYNTH)
    res = runner.invoke(app, ["report", "--ir", str(_ir(tmp_path)), "--out",
                              str(tmp_path / "out"), "--hls", str(tmp_path / "hls")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "xc7z020clg400-1" in page and "DSP" in page and "conv0" in page
    doc = json.loads((tmp_path / "out" / "estimate.json").read_text())
    assert [la["name"] for la in doc["layers"]] == ["conv0", "pool0", "conv1", "pool1", "fc"]


def test_layer_sequential_plan_comes_with_its_instructions(tmp_path) -> None:
    """At 5 % of xc7z020 no dataflow design can be built (the weights would stream from DDR):
    the layer-sequential engine on its board (pynq-z2) is in the JSON, with the DDR it takes
    and what it overflows (no array fits 5 %: the plan is the largest that fits the device);
    report.html has its cycles per instruction (a third plot) and a row per instruction in
    program order (LOAD, a MAC per conv/dense, STORE, END: each 2×2 max pool is done at its
    conv's write-back)."""
    res = runner.invoke(app, ["report", "--ir", str(_ir(tmp_path)), "--device", "xc7z020",
                              "--cap", "0.05", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "out" / "estimate.json").read_text())
    seq = doc["sequential"]
    assert (doc["ddr_layers"] or not doc["fits"]) and seq["mode"] == "layer-sequential"
    assert seq["board"] == "pynq-z2" and seq["fits"] is False
    assert any(w.startswith("dsp:") for w in seq["why"])
    assert seq["ddr_gb_s"] == round(seq["ddr_bytes_per_image"] * seq["images_per_s"] / 1e9, 3)
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "bytes/image" in page and "this configuration not synthesised" in page
    ops = page.split("Layer-sequential engine: instructions")[1]
    cells = [c.split("</td>")[0] for c in ops.split("<tr><td>")[1:]]
    assert list(dict.fromkeys(cells)) == ["input", "conv0", "conv1", "fc", ""]


def test_a_device_without_a_board_says_so(tmp_path) -> None:
    res = runner.invoke(app, ["report", "--ir", str(_ir(tmp_path)), "--device", "xc7z010",
                              "--cap", "0.05"])
    assert res.exit_code == 0, res.output
    assert "no board known with xc7z010" in " ".join(res.output.split())


def test_bad_device_and_cap_are_one_line_errors(tmp_path) -> None:
    d = str(_ir(tmp_path))
    for args, text in ((["--device", "xc9"], "--device must be one of"),
                       (["--cap", "1.5"], "--cap must be in (0, 1], got 1.5")):
        res = runner.invoke(app, ["report", "--ir", d, *args])
        assert res.exit_code == 1 and text in res.output, res.output
        assert "Traceback" not in res.output


CSYNTH = """<?xml version="1.0" encoding="UTF-8"?>
<profile><UserAssignments><Part>xc7z020clg400-1</Part><TopModelName>myproject</TopModelName>
<TargetClockPeriod>5.00</TargetClockPeriod></UserAssignments>
<PerformanceEstimates><SummaryOfTimingAnalysis><EstimatedClockPeriod>4.36</EstimatedClockPeriod>
</SummaryOfTimingAnalysis><SummaryOfOverallLatency><Best-caseLatency>1000</Best-caseLatency>
<Worst-caseLatency>1200</Worst-caseLatency><Interval-min>900</Interval-min>
<Interval-max>900</Interval-max></SummaryOfOverallLatency></PerformanceEstimates>
<AreaEstimates><Resources><BRAM_18K>10</BRAM_18K><DSP48E>20</DSP48E><FF>3000</FF><LUT>5000</LUT>
</Resources><AvailableResources><BRAM_18K>280</BRAM_18K><DSP48E>220</DSP48E><FF>106400</FF>
<LUT>53200</LUT></AvailableResources></AreaEstimates></profile>
"""
