"""sim.runner: lint of every engine, cached builds, results.xml parsing, FST waves."""

from __future__ import annotations

import time

import pytest

from sim import runner

pytestmark = pytest.mark.rtl

ENGINES = sorted(p.stem for p in runner.RTL_DIR.glob("*.sv") if not p.stem.endswith("_pkg"))


@pytest.mark.parametrize("name", ENGINES)
def test_lint_clean(name: str) -> None:
    """`verilator --lint-only -Wall` with default parameters: no warning at all."""
    sources = [*runner.DEPENDENCIES.get(name, ()), name]
    done = runner.lint(sources, top=name)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_build_is_cached(build_root) -> None:
    first = runner.build("fifo", ["fifo"], {"DATA_W": 5}, root=build_root)
    t = time.perf_counter()
    again = runner.build("fifo", ["fifo"], {"DATA_W": 5}, root=build_root)
    assert again == first and time.perf_counter() - t < 1.0
    other = runner.build_key("fifo", runner.rtl_sources("fifo"), {"DATA_W": 6}, ["-Wall"], False)
    assert first.directory.name != f"fifo-{other}"


def test_failure_is_reported_with_its_message(tmp_path, build_root) -> None:
    built = runner.build("fifo", ["fifo"], {"DATA_W": 5}, root=build_root)
    ok = runner.run(built, "sim.tb.selftest", tmp_path / "ok")
    assert ok.passed and ok.tests == 1, ok.message
    bad = runner.run(built, "sim.tb.selftest", tmp_path / "bad",
                     env={"HCCR_SELFTEST_FAIL": "1"})
    assert not bad.passed and "deliberate failure 42" in bad.message


def test_missing_module_is_a_failure(tmp_path, build_root) -> None:
    built = runner.build("fifo", ["fifo"], {"DATA_W": 5}, root=build_root)
    res = runner.run(built, "sim.tb.no_such_module", tmp_path)
    assert not res.passed


def test_build_error_names_the_top(build_root) -> None:
    with pytest.raises(runner.SimError, match="fifo: Verilator build failed"):
        runner.build("fifo", ["fifo"], {"DEPTH": 5}, root=build_root)


@pytest.mark.slow
def test_waves_written(tmp_path, build_root) -> None:
    built = runner.build("fifo", ["fifo"], {"DATA_W": 5}, waves=True, root=build_root)
    res = runner.run(built, "sim.tb.selftest", tmp_path, waves=True)
    assert res.passed, res.message
    assert (tmp_path / built.waves_file).stat().st_size > 0
    assert built.waves_file == ("dump.fst" if runner.fst_available() else "dump.vcd")
