"""Vivado / Vitis HLS synthesis report (`<top>_csynth.xml`) of a project a user synthesised.

The schema is the one `vivado_hls` writes under `<project>_prj/solution1/syn/report/` (and the
one hls4ml's `parse_vivado_report` reads): `profile/UserAssignments` (part, top, target clock),
`PerformanceEstimates` (estimated clock, overall latency and interval in cycles, `undef` when
unknown) and `AreaEstimates` (`Resources` and `AvailableResources`; Vivado names DSPs
`DSP48E`, Vitis `DSP`: both are reported as `DSP`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from hw.hls.project import PROJECT


class ReportError(ValueError):
    """An unreadable or malformed csynth.xml (one line naming the file and the element)."""


@dataclass(frozen=True)
class CsynthReport:
    """The numbers of one csynth.xml; latencies and intervals in cycles (None: undef)."""

    part: str
    top: str
    target_clock_ns: float
    estimated_clock_ns: float
    latency_best: int | None
    latency_worst: int | None
    interval_min: int | None
    interval_max: int | None
    resources: dict[str, int]
    available: dict[str, int]

    def rows(self) -> list[tuple[str, str]]:
        """(quantity, value) rows for a report table; resources as used / available (%)."""
        rows = [("part", self.part), ("top function", self.top),
                ("clock target / estimated", f"{self.target_clock_ns:g} / "
                                             f"{self.estimated_clock_ns:g} ns"),
                ("latency (cycles)", _span(self.latency_best, self.latency_worst)),
                ("interval (cycles)", _span(self.interval_min, self.interval_max))]
        for name, used in self.resources.items():
            total = self.available.get(name)
            rows.append((name, f"{used} / {total} ({100 * used / total:.1f}%)" if total
                         else str(used)))
        return rows


def _span(lo: int | None, hi: int | None) -> str:
    if lo is None or hi is None:
        return "undef"
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _text(root: ET.Element, path: str, where: Path) -> str:
    node = root.find(path)
    if node is None or node.text is None:
        raise ReportError(f"{where}: element {path} missing")
    return node.text.strip()


def _number(root: ET.Element, path: str, where: Path, kind: type[int] | type[float] = int
            ) -> int | float | None:
    """The element's value (None for `undef`)."""
    text = _text(root, path, where)
    if text == "undef":
        return None
    try:
        return kind(text)
    except ValueError:
        raise ReportError(f"{where}: {path} is {text!r}, not a number") from None


def _resources(root: ET.Element, path: str, where: Path) -> dict[str, int]:
    node = root.find(path)
    if node is None:
        raise ReportError(f"{where}: element {path} missing")
    try:
        return {("DSP" if child.tag == "DSP48E" else child.tag): int(child.text or "")
                for child in node}
    except ValueError:
        raise ReportError(f"{where}: {path} holds a non-integer count") from None


def parse_csynth(path: Path) -> CsynthReport:
    """Read one csynth.xml.

    Raises:
        ReportError: unreadable file, bad XML, or a missing or non-numeric element.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise ReportError(f"{path}: cannot read ({' '.join(str(exc).split())})") from None
    latency = "PerformanceEstimates/SummaryOfOverallLatency/"
    return CsynthReport(
        part=_text(root, "UserAssignments/Part", path),
        top=_text(root, "UserAssignments/TopModelName", path),
        target_clock_ns=_number(root, "UserAssignments/TargetClockPeriod", path, float),
        estimated_clock_ns=_number(
            root, "PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod", path,
            float),
        latency_best=_number(root, latency + "Best-caseLatency", path),
        latency_worst=_number(root, latency + "Worst-caseLatency", path),
        interval_min=_number(root, latency + "Interval-min", path),
        interval_max=_number(root, latency + "Interval-max", path),
        resources=_resources(root, "AreaEstimates/Resources", path),
        available=_resources(root, "AreaEstimates/AvailableResources", path))


def find_csynth(project: Path) -> Path | None:
    """The top function's csynth.xml inside an hls project folder, if Vivado HLS ran there."""
    found = sorted(project.glob(f"*_prj/solution*/syn/report/{PROJECT}_csynth.xml"))
    return found[0] if found else None
