"""Random IR graphs (`tests/fuzz/graphs.py`) through every back end, bit-exact against golden.

Back ends (`HCCR_FUZZ_BACKENDS`, comma-separated, default all):
- `seq`: the layer-sequential compiler at PE 4 × SIMD 8 and its NumPy program model
  (`check_program`: every tensor and the DDR output records), and again with three quarters
  of the buffer where that runs a conv chain in row bands;
- `seq_rtl`: the same programs on the engine's RTL (`tests/hw/seq`'s cocotb testbench, random
  AXI pauses; one Verilator build serves every program);
- `seq_free`: the same programs on the engine's RTL, free-running (`sim.seq_freerun`: the SV
  DDR model with random extra read latency and random R-channel pauses, no Python per cycle;
  about 50 times faster per graph than `seq_rtl`), at PE 4 × SIMD 8, again at PE 2 ×
  SIMD 4 with 128-byte weight tiles, and in row bands as for `seq`;
- `rtl`: the dataflow network top (`hw.gen.network`) with a random folding per layer (PE,
  SIMD, PACK), free-running with random source/sink stalls, every engine's output stream;
- `hls`: hls4ml C-simulation, every layer (about 20–40 s of g++ per graph).

`HCCR_FUZZ_GRAPHS` graphs per back end (default 200) are drawn by hypothesis, derandomised
(every run draws the same graphs, the same for each back end; `HCCR_FUZZ_SEED` draws
others, reproducibly). A graph the back end refuses
with its one-line error (an op or parameter it documents as unsupported) is counted and
replaced by another; a failure is shrunk by hypothesis and printed with its moves, to be
kept in `tests/fuzz/test_fuzz_regressions.py`. Prints per back end: graphs run, distinct op
combinations, refusals by reason, failures.

    HCCR_FUZZ_GRAPHS=20 HCCR_FUZZ_BACKENDS=rtl,seq python -m bench.bench_fuzz
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import hypothesis
import numpy as np
from hypothesis import HealthCheck, given, reject, settings

from base.errors import HccrError
from base.paths import ROOT
from hw.gen.engines import Folding, FoldingError
from hw.hls.graph import Unsupported
from quant import golden, ir
from sim import runner
from tests.fuzz.graphs import Case, graphs

BACKENDS = ("seq", "seq_rtl", "seq_free", "rtl", "hls")
BANDED: Counter[tuple[int, int]] = Counter()  # programs checked in row bands, per PE, SIMD
SEQ_TB = ROOT / "tests" / "hw" / "seq"
# A back end's documented refusal; a Verilator build or run that broke is a failure.
REFUSALS = (Unsupported, FoldingError, HccrError)


def _divisor(rng: np.random.Generator, n: int) -> int:
    return int(rng.choice([d for d in range(1, n + 1) if n % d == 0]))


def random_folding(model: ir.Model, rng: np.random.Generator) -> dict[str, Folding]:
    """A random legal folding: PE | OC, SIMD | IC and PACK for conv2d/dense, SIMD | C for pools."""
    folding = {}
    for op in model.ops:
        if op.kind in ("conv2d", "dense"):
            cin, cout = op.weight.shape[-2:]
            folding[op.name] = Folding(_divisor(rng, cout), _divisor(rng, cin),
                                       bool(rng.integers(2)))
        elif op.kind in ("maxpool", "avgpool"):
            folding[op.name] = Folding(1, _divisor(rng, model.tensors[op.inputs[0]].shape[2]))
    return folding


def _expect_equal(got: dict[str, np.ndarray], want: dict[str, np.ndarray], names, what: str
                  ) -> None:
    for name in names:
        assert np.array_equal(np.asarray(got[name]), want[name]), f"{what}: tensor {name}"


def banded_program(model: ir.Model, config, need: int):
    """The program of `model` with three quarters of the activation buffer its whole program
    takes for one image (`need` bytes), when that makes the compiler run a conv chain in row
    bands (None when it does not compile or needs no band); counted in `BANDED`."""
    from hw.gen.seq.compiler import BAND, compile_model

    room = need * 3 // 4 // config.simd * config.simd
    if room == 0:
        return None
    try:
        program = compile_model(model, dataclasses.replace(config, act_bytes=room), batch=1)
    except HccrError:
        return None
    if not any(BAND in t for ins in program.instructions for t in ins.produces):
        return None
    BANDED[config.pe, config.simd] += 1
    return program


def check_seq(case: Case, folder: Path) -> None:
    """Compiler + NumPy program model, every tensor; again in row bands where a tighter
    buffer makes the compiler use them (`banded_program`)."""
    from hw.gen.seq.check import check_program
    from hw.gen.seq.compiler import compile_model
    from tests.hw.seq.test_seq_engine import CONFIG

    program = compile_model(case.model, CONFIG, batch=2)
    for p in (program, banded_program(case.model, CONFIG, program.header.act_bytes // 2)):
        if p is not None:
            result = check_program(case.model, p, case.feeds)
            assert result.first_mismatch is None, result.summary()


def check_seq_rtl(case: Case, folder: Path) -> None:
    """The compiled program on the engine's RTL with random AXI pauses, every output."""
    from hw.gen.seq.compiler import compile_model
    from hw.gen.seq.records import pack_inputs, unpack_outputs
    from tests.hw.seq.test_seq_engine import CONFIG, simulate

    if str(SEQ_TB) not in sys.path:  # cocotb's runner passes sys.path on as PYTHONPATH
        sys.path.insert(0, str(SEQ_TB))
    program = compile_model(case.model, CONFIG, batch=2)
    images = len(case.feeds["x"])
    raw, result = simulate(program, pack_inputs(program, case.feeds), images, folder,
                           runner.build_root(), seed=zlib.crc32(folder.name.encode()))
    assert result["error_code"] == 0 and result["images_done"] == images, result
    _expect_equal(unpack_outputs(program, raw, images), golden.run(case.model, case.feeds),
                  case.model.outputs, "seq rtl")


def check_seq_free(case: Case, folder: Path) -> None:
    """The compiled program on the free-running engine, random DDR latency and R pauses, at
    the tests' PE 4 × SIMD 8 and at the smallest array (PE 2 × SIMD 4) with 128-byte weight
    tiles (several output-channel groups and weight tiles per op even on small graphs); and in
    row bands where a tighter buffer makes the compiler use them (`banded_program`)."""
    from hw.gen.seq.compiler import compile_model
    from hw.gen.seq.records import pack_inputs, unpack_outputs
    from sim.seq_freerun import simulate_seq
    from tests.hw.seq.test_seq_engine import CONFIG

    images = len(case.feeds["x"])
    want = golden.run(case.model, case.feeds)
    small = dataclasses.replace(CONFIG, pe=2, simd=4, tile_bytes=128)
    whole = compile_model(case.model, CONFIG, batch=2)
    programs = [whole, compile_model(case.model, small, batch=2),
                banded_program(case.model, CONFIG, whole.header.act_bytes // 2)]
    for k, program in enumerate(p for p in programs if p is not None):
        cfg = program.config
        run = simulate_seq(program, pack_inputs(program, case.feeds), images,
                           folder / f"run{k}", jitter=15, rpause=True,
                           seed=zlib.crc32(folder.name.encode()), root=runner.build_root())
        assert not run.timeout, "cycle limit reached"
        assert run.result["error_code"] == 0 and run.result["images_done"] == images, run.result
        _expect_equal(unpack_outputs(program, run.outputs, images), want, case.model.outputs,
                      f"seq free-running PE {cfg.pe} x SIMD {cfg.simd}")


def check_rtl(case: Case, folder: Path) -> None:
    """Generated dataflow top, random folding, random stalls: every engine's output stream."""
    from hw.gen.network import generate
    from sim.freerun import simulate_freerun

    rng = np.random.default_rng(zlib.crc32(folder.name.encode()))
    net = generate(case.model, folder / "rtl", random_folding(case.model, rng))
    x = case.feeds["x"]
    out = simulate_freerun(net, x, folder / "sim", src_pause="random", sink_pause="random",
                           seed=int(rng.integers(1, 2**16)), trace=True,
                           root=runner.build_root())
    assert out.sim.passed and not out.error, out.error or out.sim.message
    n_out = math.prod(case.model.tensors[case.model.outputs[0]].shape)
    assert out.beats == [n_out] * len(x) and out.extra_beats == 0, "beats lost or duplicated"
    want = golden.run(case.model, x)
    _expect_equal(out.traces, want, list(out.traces), "rtl")


def check_hls(case: Case, folder: Path) -> None:
    """hls4ml C-simulation, every layer."""
    from hw.hls.compare import compare_hls
    from hw.hls.config import HlsConfig
    from hw.hls.project import write_project

    x = case.feeds["x"]
    project = write_project(case.model, folder / "prj", HlsConfig(), {"x": x[:2]})
    project.compile()
    result = compare_hls(project, x)
    project.clean()
    assert result.first_mismatch is None, result.summary()
    assert result.bit_exact == len(x)


CHECKS: dict[str, Callable[[Case, Path], None]] = {
    "seq": check_seq, "seq_rtl": check_seq_rtl, "seq_free": check_seq_free, "rtl": check_rtl,
    "hls": check_hls}


def _reason(exc: Exception) -> str:
    """A refusal's message with names and numbers blanked (refusals counted by kind)."""
    text = str(exc).split(": ", 1)[-1]
    return re.sub(r"'[^']*'|\[[^\]]*\]|-?\d+", "_", text)[:90]


def fuzz(backend: str, graphs_n: int, root: Path, seed: int | None = None) -> dict:
    """Run `graphs_n` accepted graphs through one back end (`seed`: other graphs than the
    derandomised ones, reproducibly); its counts."""
    check = CHECKS[backend]
    combos: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    failures: list[str] = []
    count = iter(range(10**9))

    @settings(max_examples=graphs_n, deadline=None, derandomize=seed is None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @hypothesis.seed(seed)
    @given(graphs(images=3))
    def run(case: Case) -> None:
        k = next(count)
        t = time.perf_counter()
        try:
            check(case, root / f"{backend}_{k}")
        except Exception as exc:
            if isinstance(exc, REFUSALS) and not isinstance(exc, runner.SimError):
                refused[_reason(exc)] += 1
                _progress(backend, k, "refused", case, t)
                reject()
            failures.append(f"{type(exc).__name__}: {exc} | moves {case.moves} | "
                            f"{_describe(case.model)}")
            _progress(backend, k, "FAILED", case, t)
            raise
        combos[case.combo] += 1
        _progress(backend, k, f"ok {sum(combos.values())}", case, t)

    start = time.perf_counter()
    try:
        run()
    except Exception as exc:  # the shrunk failure, already recorded
        print(f"fuzz {backend}: FAILED (shrunk): {type(exc).__name__}: "
              f"{str(exc).splitlines()[0][:300]}")
    wall = time.perf_counter() - start
    ran = sum(combos.values())
    print(f"fuzz {backend}: {ran} graphs passed, {len(combos)} op combinations, "
          f"{sum(refused.values())} refused, {len(failures)} failing runs (incl. shrinking), "
          f"{wall:.0f} s" + (f"; programs in row bands: {dict(BANDED)}" if BANDED else ""))
    BANDED.clear()
    for reason, n in refused.most_common():
        print(f"  refused {n}×: {reason}")
    if failures:
        print(f"  first failure: {failures[0][:600]}")
        print(f"  shrunk: {failures[-1][:600]}")
    return {"backend": backend, "passed": ran, "combos": len(combos),
            "refused": sum(refused.values()), "failures": len(failures), "wall_s": wall}


def _progress(backend: str, k: int, what: str, case: Case, start: float) -> None:
    print(f"  {backend} #{k}: {what} {case.combo} ({time.perf_counter() - start:.1f} s)",
          flush=True)


def _describe(model: ir.Model) -> str:
    return "; ".join(f"{op.kind} {op.name}({','.join(op.inputs)}) -> "
                     f"{model.tensors[op.output].shape} {model.tensors[op.output].dtype} "
                     f"z{model.tensors[op.output].zero_point}" for op in model.ops)


def main() -> None:
    n = int(os.environ.get("HCCR_FUZZ_GRAPHS", "200"))
    seed = int(os.environ["HCCR_FUZZ_SEED"]) if os.environ.get("HCCR_FUZZ_SEED") else None
    chosen = [b for b in os.environ.get("HCCR_FUZZ_BACKENDS", ",".join(BACKENDS)).split(",")
              if b]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"error: HCCR_FUZZ_BACKENDS: unknown back end(s) {', '.join(unknown)} "
                         f"(one of {', '.join(BACKENDS)})")
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        for backend in chosen:
            fuzz(backend, n, Path(tmp), seed)


if __name__ == "__main__":
    main()
