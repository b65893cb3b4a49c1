"""An IR model as an hls4ml Vivado HLS project (io_stream): write, compile, predict, trace.

`write_project` lowers the IR, builds the hls4ml model with every precision, Strategy and
ReuseFactor set, and writes the project (firmware, `build_prj.tcl`, test bench with input and
golden expected-output files) into a folder, ending with `hccr_hls.json`, the marker of a
complete project: its forms (how each IR tensor is stored), layer settings and test-bench
description. On any failure the folder is removed. `HlsProject.compile` builds the C-simulation
library with g++ (no Vivado); `trace` returns every IR tensor the firmware computes, running the
library in a forked child so that an `assert`/abort inside hls4ml's C++ ends in an
`HlsBuildError` naming the layer instead of killing Python.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hw.hls.config import HlsConfig, LayerSettings, resolve
from hw.hls.lower import Lowered, Unsupported, lower, restored, stored
from quant import golden, ir

PROJECT = "hccr"  # hls4ml project name: the top function is `hccr(...)`
META = "hccr_hls.json"
TB_INPUTS = "tb_data/hccr_inputs.npy"
TB_EXPECTED = "tb_data/hccr_expected.npy"


class HlsBuildError(RuntimeError):
    """hls4ml or g++ failed (the message ends with the tail of their output)."""


@contextlib.contextmanager
def _quiet(what: str) -> Iterator[None]:
    """Swallow hls4ml's chatter on stdout; on failure raise `HlsBuildError` with its tail."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    except (Unsupported, HlsBuildError):
        raise
    except Exception as exc:
        lines = buffer.getvalue().strip().splitlines()
        tail = " | ".join([line for line in lines if "error" in line][:3] or lines[-6:])
        raise HlsBuildError(f"{what} failed: {' '.join(str(exc).split())}"
                            + (f" (output: {tail})" if tail else "")) from exc


@dataclass
class HlsProject:
    """A written hls4ml project and how the IR maps onto it.

    Attributes:
        model: the IR model.
        lowered: its hls4ml layers and tensor forms.
        settings: Strategy and ReuseFactor of each layer with weights.
        out: the project folder.
        graph: the hls4ml `ModelGraph`.
        compile_seconds: wall time of the last `compile`.
    """

    model: ir.Model
    lowered: Lowered
    settings: dict[str, LayerSettings]
    out: Path
    graph: object
    compile_seconds: float | None = field(default=None)

    def compile(self) -> float:
        """Build the C-simulation library with g++; returns the seconds it took.

        Raises:
            HlsBuildError: g++ failed.
        """
        t0 = time.perf_counter()
        with _quiet("g++ compile of the hls4ml project"):
            self.graph.compile()
        self.compile_seconds = time.perf_counter() - t0
        return self.compile_seconds

    def _inputs(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [np.ascontiguousarray(stored(feeds[t], self.lowered.forms[t]))
                for t in self.model.inputs]

    def trace(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the compiled firmware on a batch; every IR tensor it computes, as IR values.

        Args:
            feeds: `[N, H, W, C]` integers per graph input.

        Returns:
            Graph inputs, outputs and every traced tensor by IR name, `[N, *shape]` float64
            (integers unless a type is wrong).
        """
        xs = self._inputs(feeds)
        n = len(xs[0])
        outs, traces = self._run_isolated(xs[0] if len(xs) == 1 else xs)
        outs = outs if len(self.model.outputs) > 1 else [outs]
        layer_of = self.lowered.names
        result = {t: feeds[t].astype(np.float64) for t in self.model.inputs}
        for t in self.model.tensors:
            if t not in result and layer_of[t] in traces:
                result[t] = self._restore(t, traces[layer_of[t]], n)
        for t, y in zip(self.model.outputs, outs, strict=True):
            result[t] = self._restore(t, y, n)
        return result

    def _run_isolated(self, x: np.ndarray | list[np.ndarray]) -> tuple:
        """hls4ml's `trace` in a forked child; its stderr is kept to explain a crash.

        Raises:
            HlsBuildError: the child died (an assertion in the C++ names the layer) or failed.
        """
        receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
        with tempfile.TemporaryFile() as log:
            child = multiprocessing.get_context("fork").Process(
                target=_trace_child, args=(self.graph, x, send, log.fileno()))
            child.start()
            send.close()
            try:
                answer = receive.recv()
            except EOFError:
                answer = None
            child.join()
            log.seek(0)
            stderr = log.read().decode(errors="replace")
        if answer is None:
            raise HlsBuildError(f"C-simulation aborted (exit {child.exitcode}) in "
                                f"{self._crash_site(stderr)}")
        if isinstance(answer, str):
            raise HlsBuildError(f"C-simulation failed: {answer}")
        return answer

    def _crash_site(self, stderr: str) -> str:
        """`layer X (IR op Y): <assertion>` read from the child's last stderr lines."""
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        failed = next((line for line in reversed(lines) if "Assertion" in line),
                      lines[-1] if lines else "no output")
        index = re.search(r"CONFIG_T = config(\d+)", failed)
        names = {layer.index: layer.name for layer in self.graph.get_layers()}
        name = names.get(int(index.group(1))) if index else None
        where = (f"layer {name} (IR op {self.lowered.ops.get(name, name)})" if name
                 else "an unknown layer")
        reason = re.search(r"Assertion [`'](.*)' failed", failed)
        return f"{where}: {reason.group(1) if reason else failed[-200:]}"

    def _restore(self, tensor: str, values: np.ndarray, n: int) -> np.ndarray:
        shape = self.model.tensors[tensor].shape
        return restored(np.asarray(values).reshape(n, *shape), self.lowered.forms[tensor])

    def clean(self) -> None:
        """Delete the compiled libraries (each `compile` leaves a new `.so` in firmware/)."""
        for lib in (self.out / "firmware").glob("*.so"):
            lib.unlink()

    def record(self, key: str, value: object) -> None:
        """Add one entry (e.g. C-simulation results) to the project's `hccr_hls.json`."""
        path = self.out / META
        meta = json.loads(path.read_text())
        meta[key] = value
        path.write_text(json.dumps(meta, indent=1) + "\n")

    def describe(self) -> dict:
        """The `hccr_hls.json` content: forms, layer types and settings."""
        lw = self.lowered
        return {
            "ir": self.model.name, "project": PROJECT,
            "tensors": {t: {"layer": lw.names[t], "offset": f.offset, "type": str(f.type)}
                        for t, f in lw.forms.items()},
            "layers": {name: {"op": lw.ops[name], "precision": lw.precision[name],
                              **({"strategy": self.settings[name].strategy,
                                  "reuse_factor": self.settings[name].reuse_factor}
                                 if name in self.settings else {})}
                       for name in lw.precision},
        }


def _trace_child(graph: object, x: np.ndarray | list[np.ndarray], send: object,
                 log: int) -> None:
    """Child side of `HlsProject._run_isolated`: stderr to `log`, `(outs, traces)` or an error
    message to `send`."""
    os.dup2(log, 2)
    faulthandler.disable()  # the parent explains the crash; no Python dump on the console
    graph.compile = lambda: None  # hls4ml's trace() recompiles; compile() built the library
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            send.send(graph.trace(x))
    except Exception as exc:  # noqa: BLE001 - handed to the parent as one line
        send.send(" ".join(str(exc).split()) or type(exc).__name__)


def _hls_config(lowered: Lowered, settings: dict[str, LayerSettings]) -> dict:
    layers = {}
    for name, precision in lowered.precision.items():
        entry: dict[str, object] = {"Precision": precision, "Trace": True}
        if name in settings:
            entry.update(Strategy=settings[name].strategy.lower(),
                         ReuseFactor=settings[name].reuse_factor)
        layers[name] = entry
    return {"Model": {"Precision": "fixed<16,6>", "ReuseFactor": 1, "Strategy": "Resource"},
            "LayerName": layers}


def _check_settings(graph: object, lowered: Lowered, settings: dict[str, LayerSettings]) -> None:
    """hls4ml passes may silently change a ReuseFactor; refuse the project if one did."""
    layers = {layer.name: layer for layer in graph.get_layers()}
    for name, want in settings.items():
        got = layers[name].get_attr("reuse_factor") if name in layers else None
        if got != want.reuse_factor:
            raise HlsBuildError(f"{lowered.ops[name]}: hls4ml changed ReuseFactor "
                                f"{want.reuse_factor} -> {got}")


def _set_depths(graph: object, lowered: Lowered) -> None:
    """Give the first input stream of each layer in `lowered.depths` its FIFO depth."""
    layers = {layer.name: layer for layer in graph.get_layers()}
    for name, depth in lowered.depths.items():
        node = layers[name]
        node.get_input_variable(node.inputs[0]).pragma = ("stream", depth)


def testbench_data(model: ir.Model, feeds: dict[str, np.ndarray], lowered: Lowered
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Test-bench rows as the firmware sees them: flattened inputs and golden outputs."""
    values = golden.run(model, feeds)
    n = len(next(iter(feeds.values())))

    def rows(names: Sequence[str]) -> np.ndarray:
        return np.concatenate([stored(values[t], lowered.forms[t]).reshape(n, -1)
                               for t in names], axis=1)

    return rows(model.inputs), rows(model.outputs)


def write_project(model: ir.Model, out: Path, config: HlsConfig,
                  feeds: dict[str, np.ndarray]) -> HlsProject:
    """Lower `model` and write its complete project into `out` (replaced if it was one).

    Args:
        model: a valid IR model.
        out: the project folder; must not exist, or hold an earlier project (`hccr_hls.json`).
        config: part, clock and layer settings.
        feeds: test-bench images, `[N, H, W, C]` per graph input.

    Raises:
        Unsupported: an op cannot be reproduced exactly.
        ConfigError: bad settings (illegal ReuseFactor, unknown layer).
        HlsBuildError: hls4ml failed; nothing is left in `out`.
        FileExistsError: `out` exists and is not a project.
    """
    lowered = lower(model)
    settings = resolve(config, lowered)
    if out.exists():
        if not (out / META).is_file():
            raise FileExistsError(f"{out} exists and is not an hls project ({META} missing)")
        shutil.rmtree(out)
    try:
        (out / "tb_data").mkdir(parents=True)
        inputs, expected = testbench_data(model, feeds, lowered)
        np.save(out / TB_INPUTS, inputs)
        np.save(out / TB_EXPECTED, expected)
        with _quiet("hls4ml conversion"):
            from hls4ml.model.graph import ModelGraph
            from hls4ml.utils.config import create_config

            from hw.hls.extension import register

            register()

            cfg = create_config(output_dir=str(out), project_name=PROJECT, backend="Vivado",
                                part=config.part, clock_period=config.clock_ns,
                                io_type="io_stream")
            cfg.update(HLSConfig=_hls_config(lowered, settings), TraceOutput=True,
                       InputData=str(out / TB_INPUTS),
                       OutputPredictions=str(out / TB_EXPECTED))
            graph = ModelGraph.from_layer_list(cfg, lowered.layers, inputs=lowered.inputs,
                                               outputs=lowered.outputs)
        _check_settings(graph, lowered, settings)
        _set_depths(graph, lowered)
        project = HlsProject(model, lowered, settings, out, graph)
        with _quiet("hls4ml write"):
            graph.write()
        meta = {**project.describe(), "part": config.part, "clock_ns": config.clock_ns,
                "testbench": {"images": len(inputs), "inputs": TB_INPUTS,
                              "expected": TB_EXPECTED,
                              "note": "values are q - offset (see tensors)"}}
        (out / META).write_text(json.dumps(meta, indent=1) + "\n")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return project
