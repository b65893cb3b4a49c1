"""The fitted LUT/FF/DSP functions (`calibration.json`, written by `make calibrate`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import HccrError

DEFAULT = Path(__file__).with_name("calibration.json")
Fit = dict[str, dict[str, float]]  # quantity (lut, ff, dsp) -> feature -> coefficient


class CalibrationError(HccrError):
    """A missing or malformed calibration file."""


@dataclass(frozen=True)
class Calibration:
    """Per-module fits and the synthesised points they came from.

    Attributes:
        modules: module -> {"lut"|"ff"|"dsp": {feature: coefficient}}.
        points: every synthesised configuration (`heldout` ones were not fitted).
        yosys: the Yosys version that synthesised them.
    """

    modules: dict[str, Fit]
    points: list[dict] = field(default_factory=list)
    yosys: str = ""

    def as_json(self) -> dict:
        return {"yosys": self.yosys, "modules": self.modules, "points": self.points}


def load(path: str | Path = DEFAULT) -> Calibration:
    """Read a calibration file.

    Raises:
        CalibrationError: unreadable, or without `modules`.
    """
    try:
        doc = json.loads(Path(path).read_text())
        return Calibration(dict(doc["modules"]), list(doc.get("points", [])),
                           str(doc.get("yosys", "")))
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CalibrationError(f"{path}: cannot read calibration ({exc}); run `make calibrate`"
                               ) from None
