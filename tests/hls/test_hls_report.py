"""The Vivado HLS csynth.xml parser, on a hand-written report of the real schema."""

from __future__ import annotations

import pytest

from hw.hls.report import ReportError, find_csynth, parse_csynth

pytestmark = pytest.mark.hls

CSYNTH = """<?xml version="1.0" encoding="UTF-8"?>
<profile>
  <ReportVersion><Version>2020.1</Version></ReportVersion>
  <UserAssignments>
    <unit>ns</unit>
    <ProductFamily>zynq</ProductFamily>
    <Part>xc7z020-clg400-1</Part>
    <TopModelName>hccr</TopModelName>
    <TargetClockPeriod>5.00</TargetClockPeriod>
    <ClockUncertainty>0.62</ClockUncertainty>
    <FlowTarget>vivado</FlowTarget>
  </UserAssignments>
  <PerformanceEstimates>
    <PipelineType>dataflow</PipelineType>
    <SummaryOfTimingAnalysis>
      <unit>ns</unit>
      <EstimatedClockPeriod>4.375</EstimatedClockPeriod>
    </SummaryOfTimingAnalysis>
    <SummaryOfOverallLatency>
      <unit>clock cycles</unit>
      <Best-caseLatency>40213</Best-caseLatency>
      <Average-caseLatency>40213</Average-caseLatency>
      <Worst-caseLatency>40213</Worst-caseLatency>
      <Best-caseRealTimeLatency>0.201 ms</Best-caseRealTimeLatency>
      <Interval-min>36865</Interval-min>
      <Interval-max>36865</Interval-max>
    </SummaryOfOverallLatency>
  </PerformanceEstimates>
  <AreaEstimates>
    <Resources>
      <BRAM_18K>86</BRAM_18K>
      <DSP48E>131</DSP48E>
      <FF>25817</FF>
      <LUT>39904</LUT>
      <URAM>0</URAM>
    </Resources>
    <AvailableResources>
      <BRAM_18K>280</BRAM_18K>
      <DSP48E>220</DSP48E>
      <FF>106400</FF>
      <LUT>53200</LUT>
      <URAM>0</URAM>
    </AvailableResources>
  </AreaEstimates>
</profile>
"""


def test_parse_and_find(tmp_path):
    report = tmp_path / "hccr_prj" / "solution1" / "syn" / "report" / "hccr_csynth.xml"
    report.parent.mkdir(parents=True)
    report.write_text(CSYNTH)
    assert find_csynth(tmp_path) == report
    r = parse_csynth(report)
    assert (r.part, r.top, r.target_clock_ns, r.estimated_clock_ns) == (
        "xc7z020-clg400-1", "hccr", 5.0, 4.375)
    assert (r.latency_best, r.latency_worst, r.interval_min, r.interval_max) == (
        40213, 40213, 36865, 36865)
    assert r.resources == {"BRAM_18K": 86, "DSP": 131, "FF": 25817, "LUT": 39904, "URAM": 0}
    assert r.available["DSP"] == 220
    rows = dict(r.rows())
    assert rows["DSP"] == "131 / 220 (59.5%)" and rows["latency (cycles)"] == "40213"


def test_undef_latency_and_broken_reports(tmp_path):
    path = tmp_path / "hccr_csynth.xml"
    path.write_text(CSYNTH.replace("<Worst-caseLatency>40213", "<Worst-caseLatency>undef"))
    assert parse_csynth(path).latency_worst is None
    assert dict(parse_csynth(path).rows())["latency (cycles)"] == "undef"
    path.write_text(CSYNTH.replace("<FF>25817</FF>", "<FF>many</FF>"))
    with pytest.raises(ReportError, match="AreaEstimates/Resources holds a non-integer count"):
        parse_csynth(path)
    path.write_text(CSYNTH.replace("<TopModelName>hccr</TopModelName>", ""))
    with pytest.raises(ReportError, match="element UserAssignments/TopModelName missing"):
        parse_csynth(path)
    path.write_text(CSYNTH[:300])
    with pytest.raises(ReportError, match="cannot read"):
        parse_csynth(path)
    assert find_csynth(tmp_path / "nothing") is None
