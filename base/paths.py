"""Where the repository is: its root holds `hw/rtl/`, `tests/` and `build/`."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
