"""Build settings of an hls4ml project: part, clock and per-layer Strategy / ReuseFactor.

A settings file (YAML or JSON) looks like:

    part: xc7z020clg400-1       # optional, like --part
    clock_ns: 5                 # optional, like --clock-ns
    strategy: Resource          # every layer with weights: Resource (default) or Latency
    reuse_factor: auto          # or an integer for every layer
    max_multipliers: 64         # auto: smallest legal RF with n_in*n_out/RF <= this
    layers:                     # per IR op name, over the defaults above
      conv1: {reuse_factor: 9}
      fc: {strategy: Latency, reuse_factor: 1}

Precedence: defaults < file < command-line flags. Unknown keys and layer names are errors, and
every ReuseFactor is checked against hls4ml's own legality rule before anything is compiled
(an illegal one aborts the whole process inside C-simulation).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hw.hls.lower import Lowered

STRATEGIES = ("Resource", "Latency")
_TOP_KEYS = {"part", "clock_ns", "strategy", "reuse_factor", "max_multipliers", "layers"}
_LAYER_KEYS = {"strategy", "reuse_factor"}


class ConfigError(ValueError):
    """Invalid build settings (the message names the key or layer)."""


@dataclass(frozen=True)
class LayerSettings:
    """What one hls4ml layer with weights is built with."""

    strategy: str
    reuse_factor: int


@dataclass(frozen=True)
class HlsConfig:
    """Settings of one hls4ml project.

    Attributes:
        part: the FPGA part (Vivado name).
        clock_ns: target clock period in ns.
        strategy: default Strategy of layers with weights.
        reuse_factor: default ReuseFactor (None: derived from each layer's size).
        max_multipliers: multipliers per layer the derived ReuseFactor aims at.
        layers: IR op name -> {"strategy", "reuse_factor"} overrides.
    """

    part: str = "xc7z020clg400-1"
    clock_ns: float = 5.0
    strategy: str = "Resource"
    reuse_factor: int | None = None
    max_multipliers: int = 64
    layers: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_strategy("strategy", self.strategy)
        if self.reuse_factor is not None:
            _check_positive("reuse_factor", self.reuse_factor)
        _check_positive("max_multipliers", self.max_multipliers)
        if not (isinstance(self.clock_ns, int | float) and not isinstance(self.clock_ns, bool)
                and math.isfinite(self.clock_ns) and self.clock_ns > 0):
            raise ConfigError(f"clock_ns must be a finite number > 0, got {self.clock_ns!r}")
        for name, entry in self.layers.items():
            if not isinstance(entry, Mapping) or set(entry) - _LAYER_KEYS:
                raise ConfigError(f"layers.{name}: expected a mapping with keys from "
                                  f"{sorted(_LAYER_KEYS)}, got {entry!r}")
            if "strategy" in entry:
                _check_strategy(f"layers.{name}.strategy", entry["strategy"])
            if "reuse_factor" in entry:
                _check_positive(f"layers.{name}.reuse_factor", entry["reuse_factor"])


def _check_strategy(key: str, value: object) -> None:
    if value not in STRATEGIES:
        raise ConfigError(f"{key} must be one of {', '.join(STRATEGIES)}, got {value!r}")


def _check_positive(key: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{key} must be a positive integer, got {value!r}")


def load(path: Path, **overrides: object) -> HlsConfig:
    """Read a settings file, then apply the non-None `overrides` (command-line flags).

    Raises:
        ConfigError: unreadable file, unknown key or bad value.
    """
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings ({' '.join(str(exc).split())})"
                          ) from None
    if not isinstance(doc, dict) or set(doc) - _TOP_KEYS:
        raise ConfigError(f"{path}: expected a mapping with keys from {sorted(_TOP_KEYS)}")
    if doc.get("reuse_factor") == "auto":
        doc["reuse_factor"] = None
    return with_overrides(HlsConfig(**doc), **overrides)


def with_overrides(config: HlsConfig, **overrides: object) -> HlsConfig:
    """`config` with the non-None `overrides` applied; `layers` entries are merged per layer."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if "layers" in given:
        merged = {k: dict(v) for k, v in config.layers.items()}
        for name, entry in given.pop("layers").items():
            merged.setdefault(name, {}).update(entry)
        given["layers"] = merged
    return dataclasses.replace(config, **given)


@functools.cache
def legal_reuse_factors(n_in: int, n_out: int) -> tuple[int, ...]:
    """The ReuseFactors hls4ml accepts for a layer of `n_in` inputs and `n_out` outputs."""
    from hls4ml.backends import get_backend

    return tuple(get_backend("Vivado").get_valid_reuse_factors(n_in, n_out))


def resolve(config: HlsConfig, lowered: Lowered) -> dict[str, LayerSettings]:
    """The settings of every hls4ml layer with weights, each ReuseFactor checked legal.

    Layers the lowering fixed (per-channel sums of pools, gwap, requant) get Latency, RF 1.

    Raises:
        ConfigError: a layer name that is not an op with weights, or an illegal ReuseFactor.
    """
    by_op = {lowered.ops[name]: name for name in lowered.macs}
    unknown = sorted(set(config.layers) - set(by_op))
    if unknown:
        raise ConfigError(f"settings name {', '.join(unknown)}, not configurable ops of this IR "
                          f"({', '.join(by_op) or 'none'})")
    settings = dict.fromkeys(lowered.fixed, LayerSettings("Latency", 1))
    for op, name in by_op.items():
        n_in, n_out = lowered.macs[name]
        legal = legal_reuse_factors(n_in, n_out)
        entry = {"strategy": config.strategy, "reuse_factor": config.reuse_factor,
                 **config.layers.get(op, {})}
        rf = entry["reuse_factor"]
        if rf is None:
            rf = next((r for r in legal if n_in * n_out <= r * config.max_multipliers),
                      legal[-1])
        elif rf not in legal:
            shown = ", ".join(map(str, legal[:12])) + (", …" if len(legal) > 12 else "")
            raise ConfigError(f"{op}: ReuseFactor {rf} is not legal for {n_in} inputs × {n_out} "
                              f"outputs (legal: {shown})")
        settings[name] = LayerSettings(str(entry["strategy"]), int(rf))
    return settings
