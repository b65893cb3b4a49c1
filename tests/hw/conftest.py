"""Shared fixtures for the RTL tests (cocotb + Verilator): build root, rng, seed."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from sim import runner


@pytest.fixture(scope="session")
def build_root() -> Path:
    """Where Verilator builds are cached ($HCCR_BUILD_DIR or build/sim/)."""
    root = runner.build_root()
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from the test's node id: reproducible, different per case."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """An integer seed derived from the test's node id (for pause generators)."""
    return zlib.crc32(request.node.nodeid.encode()) & 0xFFFF
