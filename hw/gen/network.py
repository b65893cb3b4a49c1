"""IR -> dataflow network top: the hand-written engines of hw/rtl chained by AXI-Stream FIFOs.

`generate` writes, into one folder:
- `<top>.sv`: the top module (jinja2 template `templates/network.sv.j2`; it only wires),
- one or two `.mem` ROM images per weighted layer (`hw.gen.engines`),
- `network.json`: what was generated (layers, modules, parameters, folding, cycles, files).
Every generated file starts with a header naming the generator version and the config hash
(a hash of the IR, its weights, the folding and the generator version).

Supported: sequential networks (each op reads the previous op's output) of conv2d, maxpool,
global_avgpool, dense and reshape (a reshape keeps the HWC element order of the stream, so it
is only wiring). add has an engine (`hw/rtl/add.sv`) but needs a branching top, not yet
generated.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from hw.gen.engines import EngineSpec, Folding, FoldingError, engine_for
from quant import ir

GENERATOR_VERSION = "0.1.0"
TEMPLATES = Path(__file__).parent / "templates"
PASS_THROUGH = ("reshape",)


@dataclass
class Network:
    """A generated network.

    Attributes:
        top: the top module name.
        directory: where the files are.
        engines: one per computing layer, in stream order.
        fifo_depth: depth of the FIFO between two engines.
        config_hash: hash of the IR, weights, folding and generator version.
        files: every generated file (top, `.mem`, `network.json`).
    """

    top: str
    directory: Path
    engines: list[EngineSpec]
    fifo_depth: int
    config_hash: str
    files: list[Path] = field(default_factory=list)

    @property
    def top_file(self) -> Path:
        return self.directory / f"{self.top}.sv"

    @property
    def modules(self) -> list[str]:
        """hw/rtl modules the top instantiates, with their dependencies (no duplicates)."""
        names: list[str] = []
        for eng in self.engines:
            names += [m for m in eng.sources if m not in names]
        return names + ([] if "fifo" in names else ["fifo"])

    @property
    def pipeline_cycles(self) -> int:
        """Analytical cycles per image in steady state: the slowest engine's."""
        return max(e.bound_cycles for e in self.engines)

    @property
    def in_spec(self) -> ir.TensorSpec:
        return self.engines[0].in_spec

    @property
    def out_spec(self) -> ir.TensorSpec:
        return self.engines[-1].out_spec

    @property
    def mem_files(self) -> list[Path]:
        return [f for f in self.files if f.suffix == ".mem"]


def config_hash(model: ir.Model, folding: Mapping[str, Folding], fifo_depth: int) -> str:
    """sha256 (12 hex digits) of the IR document, its arrays, the folding and the generator."""
    doc, arrays = ir.to_json(model)
    h = hashlib.sha256(json.dumps(doc, sort_keys=True).encode())
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(arrays[name].tobytes())
    h.update(json.dumps({k: [f.pe, f.simd] for k, f in sorted(folding.items())}).encode())
    h.update(f"{fifo_depth}:{GENERATOR_VERSION}".encode())
    return h.hexdigest()[:12]


def _chain(model: ir.Model) -> list[ir.Op]:
    """The ops of a sequential model, checked to form one chain from input to output."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise FoldingError(f"{model.name}: the RTL generator needs one input and one output, "
                           f"got {list(model.inputs)} -> {list(model.outputs)}")
    current = model.inputs[0]
    for op in model.ops:
        if tuple(op.inputs) != (current,):
            raise FoldingError(f"{op.name}: reads {list(op.inputs)}, but the RTL generator only "
                               f"chains sequential networks (expected ['{current}'])")
        current = op.output
    if current != model.outputs[0]:
        raise FoldingError(f"{model.name}: the chain ends at '{current}', not at the output "
                           f"'{model.outputs[0]}'")
    return list(model.ops)


def _sv_value(value: object) -> str:
    if isinstance(value, bool):
        return f"1'b{int(value)}"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def generate(model: ir.Model, directory: str | Path, folding: Mapping[str, Folding] | None = None,
             *, top: str = "network", fifo_depth: int = 16) -> Network:
    """Write the network top, its ROM images and `network.json` into `directory`.

    Args:
        model: a valid sequential IR model.
        directory: output folder (created).
        folding: PE/SIMD per layer name (default 1/1); a name that is no layer is an error.
        top: the top module's name.
        fifo_depth: entries of each FIFO between engines (a power of two).

    Raises:
        FoldingError: an unsupported op or graph, a folding that does not fit, or a folding
            entry naming no layer.
    """
    ir.check(model)
    folding = dict(folding or {})
    ops = _chain(model)
    unknown = sorted(set(folding) - {op.name for op in ops})
    if unknown:
        raise FoldingError(f"folding names no layer: {', '.join(unknown)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    chash = config_hash(model, folding, fifo_depth)
    header = (f"Generated by hccr-fpga hw.gen {GENERATOR_VERSION} from IR '{model.name}', "
              f"config hash {chash}. Do not edit.")
    engines = [engine_for(op, model, folding.get(op.name), fifo_depth=fifo_depth)
               for op in ops if op.kind not in PASS_THROUGH]
    if not engines:
        raise FoldingError(f"{model.name}: no layer with an RTL engine")
    for prev, nxt in zip(engines, engines[1:], strict=False):
        if math.prod(prev.out_spec.shape) != math.prod(nxt.in_spec.shape):
            raise FoldingError(f"{nxt.name}: reads {math.prod(nxt.in_spec.shape)} elements per "
                               f"image, {prev.name} writes {math.prod(prev.out_spec.shape)}")
        if prev.out_spec.dtype == "int32":
            raise FoldingError(f"{nxt.name}: reads int32 '{prev.out_spec.name}'; engines read "
                               "8-bit streams")

    streams = [{"name": "s_in", "width": 8, "comment": f"input '{model.inputs[0]}'"}]
    layers = []
    for i, eng in enumerate(engines):
        width = int(eng.params.get("OUT_W", 8))
        out_name = f"s_{eng.name}"
        streams.append({"name": out_name, "width": width,
                        "comment": f"{eng.name} -> {eng.out_spec.name} {list(eng.out_spec.shape)}"
                                   f" {eng.out_spec.dtype}"})
        layers.append({"name": eng.name, "module": eng.module, "src": streams[-2]["name"],
                       "dst": out_name, "params": [(k, _sv_value(v)) for k, v in
                                                   eng.params.items()],
                       "in_shape": list(eng.in_spec.shape), "out_shape": list(eng.out_spec.shape),
                       "cycles": eng.bound_cycles})
        if i < len(engines) - 1:  # a FIFO decouples two engines
            fifo_name = f"s_{eng.name}_q"
            streams.append({"name": fifo_name, "width": width,
                            "comment": f"FIFO after {eng.name}"})
            layers.append({"name": f"{eng.name}_fifo", "module": "fifo", "src": out_name,
                           "dst": fifo_name, "params": [("DATA_W", str(width)),
                                                        ("DEPTH", str(fifo_depth))],
                           "in_shape": list(eng.out_spec.shape),
                           "out_shape": list(eng.out_spec.shape), "cycles": 0})

    net = Network(top, directory, engines, fifo_depth, chash)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = env.get_template("network.sv.j2").render(
        header=header, model_name=model.name, top=top, layers=layers, streams=streams,
        out_width=streams[-1]["width"], pipeline_cycles=net.pipeline_cycles)
    net.top_file.write_text(text)
    net.files.append(net.top_file)
    for eng in engines:
        for path in eng.write_mems(directory):
            path.write_text(f"// {header}\n" + path.read_text())
            net.files.append(path)
    description = {
        "generator": {"name": "hccr-fpga hw.gen", "version": GENERATOR_VERSION},
        "header": header, "config_hash": chash, "model": model.name, "top": top,
        "input": {"tensor": net.in_spec.name, "shape": list(net.in_spec.shape),
                  "dtype": net.in_spec.dtype},
        "output": {"tensor": net.out_spec.name, "shape": list(net.out_spec.shape),
                   "dtype": net.out_spec.dtype},
        "fifo_depth": fifo_depth, "pipeline_cycles": net.pipeline_cycles,
        "folding": {k: {"pe": f.pe, "simd": f.simd} for k, f in sorted(folding.items())},
        "modules": net.modules,
        "layers": [{"name": e.name, "module": e.module, "params": e.params,
                    "folding": {"pe": int(e.params.get("PE", 1)),
                                "simd": int(e.params.get("SIMD", 1))},
                    "cycles": e.cycles, "in_beats": e.in_beats, "out_beats": e.out_beats,
                    "bound_cycles": e.bound_cycles, "mems": sorted(e.mems)}
                   for e in engines],
        "files": [p.name for p in net.files] + ["network.json"],
    }
    desc_path = directory / "network.json"
    desc_path.write_text(json.dumps(description, indent=1) + "\n")
    net.files.append(desc_path)
    return net


def load(directory: str | Path, model: ir.Model) -> Network:
    """The `Network` that `generate` wrote into `directory` from `model`, files not rewritten.

    Raises:
        FoldingError: no `network.json` there, or it was generated from another IR, folding
            or generator version (its config hash differs), or a listed file is missing.
    """
    directory = Path(directory)
    desc_path = directory / "network.json"
    if not desc_path.is_file():
        raise FoldingError(f"{directory}: no network.json (generate the RTL with `hccr rtl`)")
    desc = json.loads(desc_path.read_text())
    folding = {k: Folding(int(v["pe"]), int(v["simd"]))
               for k, v in desc.get("folding", {}).items()}
    fifo_depth = int(desc["fifo_depth"])
    chash = config_hash(model, folding, fifo_depth)
    if chash != desc.get("config_hash"):
        raise FoldingError(f"{directory}: network.json has config hash "
                           f"{desc.get('config_hash')}, but IR '{model.name}' with its folding "
                           f"and generator {GENERATOR_VERSION} give {chash}: regenerate")
    engines = [engine_for(op, model, folding.get(op.name), fifo_depth=fifo_depth)
               for op in _chain(model) if op.kind not in PASS_THROUGH]
    files = [directory / name for name in desc["files"]]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise FoldingError(f"{directory}: generated files missing: {', '.join(missing)}")
    return Network(desc["top"], directory, engines, fifo_depth, chash, files)
