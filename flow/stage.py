"""What a demo stage sees: the demo's config, the results so far, and the `Stage` record that
each module of `flow/stages/` declares (`flow.demo` runs them in order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DemoConfig:
    """The demo's knobs (all recorded in manifest.json)."""

    name: str = "demo"
    runs_dir: Path = Path("runs")
    classes: int = 100
    train_writers: int = 40
    test_writers: int = 10
    size: int = 64
    epochs: int = 8
    seed: int = 0
    workers: int | None = None

    @property
    def run_dir(self) -> Path:
        return self.runs_dir / self.name


@dataclass
class Demo:
    """A demo in progress: its config and the results of the stages run so far."""

    config: DemoConfig
    results: dict[str, dict] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir


@dataclass(frozen=True)
class Stage:
    """One step of the flow as the demo runs it."""

    name: str
    run: Callable[[Demo], dict]
    report: Callable[[Demo], str]
