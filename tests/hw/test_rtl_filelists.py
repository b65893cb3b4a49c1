"""<engine>.f from hw.gen.filelist: each one enough to lint its engine alone (Verilator `-F`,
paths relative to the file); sources ordered after what they use; bad tables refused."""

from __future__ import annotations

import subprocess

import pytest

from hw.gen import filelist
from hw.gen.engines import SOURCES
from sim import runner

pytestmark = pytest.mark.rtl


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, object]:
    paths = filelist.write_filelists(SOURCES, tmp_path_factory.mktemp("filelists"))
    return {p.stem: p for p in paths}


@pytest.mark.parametrize("engine", sorted(SOURCES))
def test_filelist_lints_its_engine_alone(engine: str, written) -> None:
    done = subprocess.run([runner.verilator(), "--lint-only", "-Wall", "--top-module", engine,
                           "-F", str(written[engine])], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_one_filelist_per_engine_and_the_engine_last(written) -> None:
    assert set(written) == set(SOURCES)
    for engine, path in written.items():
        assert path.read_text().splitlines()[-1].endswith(f"/{engine}.sv")


def test_sources_put_each_module_after_what_it_uses() -> None:
    uses = {"top": ("b", "a"), "b": ("a", "fifo"), "a": ("hccr_pkg",)}
    order = filelist.sources("top", uses)
    assert order == ("hccr_pkg", "a", "fifo", "b", "top")
    for module, deps in uses.items():
        assert all(order.index(d) < order.index(module) for d in deps)


def test_unknown_module_and_cycle_are_errors() -> None:
    with pytest.raises(filelist.FileListError, match="nope .used by top. is in no"):
        filelist.sources("top", {"top": ("nope",)})
    with pytest.raises(filelist.FileListError, match="top -> a -> top"):
        filelist.sources("top", {"top": ("a",), "a": ("top",)})
