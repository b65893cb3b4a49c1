"""IR -> dataflow network top: the hand-written engines of hw/rtl wired by AXI-Stream FIFOs.

`generate` writes, into one folder:
- `<top>.sv`: the top module (jinja2 template `templates/network.sv.j2`; it only wires),
- one or two `.mem` ROM images per weighted layer (`hw.gen.engines`),
- `network.json`: what was generated (layers, modules, parameters, folding, cycles, every
  FIFO with its depth and why, forks, files).
Every generated file starts with a header naming the generator version and the config hash
(a hash of the IR, its weights, the folding, FIFO overrides and the generator version).

Any DAG with one input and one output whose ops have engines (`hw.gen.engines`): engines in
topological order, a `broadcast` fork where a tensor has several readers, a FIFO on every
engine input, sized at joins (`hw.gen.graph`). A reshape keeps the HWC element order of the
stream, so it is only wiring.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from hw.gen.engines import EngineSpec, Folding, FoldingError
from hw.gen.graph import Fifo, Fork, plan
from quant import ir

GENERATOR_VERSION = "0.2.2"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Network:
    """A generated network.

    Attributes:
        top: the top module name.
        directory: where the files are.
        engines: one per computing layer, in topological order.
        fifo_depth: depth of the engines' own FIFOs and of FIFOs outside joins.
        config_hash: hash of the IR, weights, folding, overrides and generator version.
        in_spec: the network's input tensor.
        fifos: the FIFO in front of every engine input.
        forks: the broadcasts of tensors with several readers.
        out_src: the engine whose stream is the output.
        files: every generated file (top, `.mem`, `network.json`).
    """

    top: str
    directory: Path
    engines: list[EngineSpec]
    fifo_depth: int
    config_hash: str
    in_spec: ir.TensorSpec
    fifos: list[Fifo] = field(default_factory=list)
    forks: list[Fork] = field(default_factory=list)
    out_src: str = ""
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
        extra = ["fifo"] + (["broadcast"] if self.forks else [])
        return names + [m for m in extra if m not in names]

    @property
    def pipeline_cycles(self) -> int:
        """Analytical cycles per image in steady state: the slowest engine's."""
        return max(e.bound_cycles for e in self.engines)

    @property
    def out_spec(self) -> ir.TensorSpec:
        """The output engine's tensor (the network output, or what a reshape of it reads)."""
        return next(e.out_spec for e in self.engines if e.name == self.out_src)

    @property
    def mem_files(self) -> list[Path]:
        return [f for f in self.files if f.suffix == ".mem"]


def config_hash(model: ir.Model, folding: Mapping[str, Folding], fifo_depth: int,
                overrides: Mapping[str, int] | None = None) -> str:
    """sha256 (12 hex digits) of the IR document, its arrays, the folding, FIFO overrides and
    the generator."""
    doc, arrays = ir.to_json(model)
    h = hashlib.sha256(json.dumps(doc, sort_keys=True).encode())
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(arrays[name].tobytes())
    h.update(json.dumps({k: dataclasses.astuple(f) for k, f in sorted(folding.items())}
                        ).encode())
    h.update(json.dumps(dict(sorted((overrides or {}).items()))).encode())
    h.update(f"{fifo_depth}:{GENERATOR_VERSION}".encode())
    return h.hexdigest()[:12]


def _sv_value(value: object) -> str:
    if isinstance(value, bool):
        return f"1'b{int(value)}"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _streams(net: Network, input_src: str) -> dict:
    """Template fields: streams, engine instances (with input ports), FIFOs, forks."""
    stream = {input_src: "s_in"} | {e.name: f"s_{e.name}" for e in net.engines}
    streams = [{"name": "s_in", "width": 8, "comment": f"input '{input_src}'"}]
    streams += [{"name": f"s_{e.name}", "width": int(e.params.get("OUT_W", 8)),
                 "comment": f"{e.name} -> {e.out_spec.name} {list(e.out_spec.shape)} "
                            f"{e.out_spec.dtype}"} for e in net.engines]
    lane = {}  # (source, reader) -> stream leaving the source's fork
    forks = []
    for f in net.forks:
        outs = []
        for reader in f.outs:
            name = f"s_{reader.replace('.', '_')}_f"
            streams.append({"name": name, "width": f.width,
                            "comment": f"fork of {stream[f.src]} -> {reader}"})
            lane[f.src, reader] = name
            outs.append(name)
        forks.append({"name": f"{stream[f.src]}_fork", "src": stream[f.src], "width": f.width,
                      "outs": outs})
    fifos = []
    for q in net.fifos:  # `_q`: engine `cat_in0` (a requant feeding cat) has stream s_cat_in0
        out = f"s_{q.name.replace('.', '_')}_q"
        streams.append({"name": out, "width": q.width,
                        "comment": f"FIFO {q.name} ({q.tensor}), depth {q.depth}"})
        src = lane.get((q.src, q.name), stream[q.src])
        fifos.append({"name": f"q_{q.name.replace('.', '_')}", "src": src, "dst": out,
                      "width": q.width, "depth": q.depth, "comment": q.why})
    ports = {q.dst: [] for q in net.fifos}
    for q in net.fifos:
        ports[q.dst].append(f"s_{q.name.replace('.', '_')}_q")
    layers = []
    for e in net.engines:
        ins = ports[e.name]
        names = ["s_axis"] if len(ins) == 1 else [f"s{i}_axis" for i in range(len(ins))]
        # Engines with one packed input port (concat): lane i = input i, so lane 0 goes last.
        packed = {k: "{" + ", ".join(f"{s}_{k}" for s in reversed(ins)) + "}"
                  for k in ("tdata", "tvalid", "tready", "tlast")} if e.packed_ins else None
        layers.append({"name": e.name, "module": e.module, "ins": list(zip(names, ins,
                                                                         strict=True)),
                       "packed": packed, "dst": f"s_{e.name}",
                       "params": [(k, _sv_value(v)) for k, v in e.params.items()],
                       "in_shape": list(e.in_spec.shape), "out_shape": list(e.out_spec.shape),
                       "cycles": e.bound_cycles})
    return {"streams": streams, "layers": layers, "fifos": fifos, "forks": forks,
            "out_stream": stream[net.out_src]}


def generate(model: ir.Model, directory: str | Path, folding: Mapping[str, Folding] | None = None,
             *, top: str = "network", fifo_depth: int = 16,
             fifo_depths: Mapping[str, int] | None = None) -> Network:
    """Write the network top, its ROM images and `network.json` into `directory`.

    Args:
        model: a valid IR model (one input, one output).
        directory: output folder (created).
        folding: PE/SIMD per layer name (default 1/1); a name that is no layer is an error.
        top: the top module's name.
        fifo_depth: entries of the engines' own FIFOs and of FIFOs outside joins (a power of
            two); FIFOs on a join's short path are sized (`hw.gen.graph`).
        fifo_depths: FIFO name (`<engine>.in<k>`) -> depth, overriding the computed one.

    Raises:
        FoldingError: an unsupported op or graph, a folding that does not fit, a folding
            entry naming no layer, or a bad FIFO override.
    """
    ir.check(model)
    folding = dict(folding or {})
    unknown = sorted(set(folding) - {op.name for op in model.ops})
    if unknown:
        raise FoldingError(f"folding names no layer: {', '.join(unknown)}")
    overrides = dict(fifo_depths or {})
    net = _network(model, folding, fifo_depth, overrides, directory, top)
    header = (f"Generated by hccr-fpga hw.gen {GENERATOR_VERSION} from IR '{model.name}', "
              f"config hash {net.config_hash}. Do not edit.")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    fields = _streams(net, model.inputs[0])
    width = {s["name"]: s["width"] for s in fields["streams"]}
    text = env.get_template("network.sv.j2").render(
        header=header, model_name=model.name, top=top, **fields,
        out_width=width[fields["out_stream"]], pipeline_cycles=net.pipeline_cycles)
    net.directory.mkdir(parents=True, exist_ok=True)
    net.top_file.write_text(text)
    net.files.append(net.top_file)
    for eng in net.engines:
        for path in eng.write_mems(net.directory):
            path.write_text(f"// {header}\n" + path.read_text())
            net.files.append(path)
    description = {
        "generator": {"name": "hccr-fpga hw.gen", "version": GENERATOR_VERSION},
        "header": header, "config_hash": net.config_hash, "model": model.name, "top": top,
        "input": {"tensor": net.in_spec.name, "shape": list(net.in_spec.shape),
                  "dtype": net.in_spec.dtype},
        "output": {"tensor": net.out_spec.name, "shape": list(net.out_spec.shape),
                   "dtype": net.out_spec.dtype},
        "fifo_depth": fifo_depth, "fifo_overrides": overrides,
        "pipeline_cycles": net.pipeline_cycles,
        "folding": {k: dataclasses.asdict(f) for k, f in sorted(folding.items())},
        "modules": net.modules,
        "layers": [{"name": e.name, "module": e.module, "params": e.params,
                    "folding": {"pe": int(e.params.get("PE", 1)),
                                "simd": int(e.params.get("SIMD", 1))},
                    "cycles": e.cycles, "in_beats": e.in_beats, "out_beats": e.out_beats,
                    "bound_cycles": e.bound_cycles, "mems": sorted(e.mems)}
                   for e in net.engines],
        "fifos": [q.as_json() for q in net.fifos],
        "forks": [{"from": f.src, "to": list(f.outs)} for f in net.forks],
        "files": [p.name for p in net.files] + ["network.json"],
    }
    desc_path = net.directory / "network.json"
    desc_path.write_text(json.dumps(description, indent=1) + "\n")
    net.files.append(desc_path)
    return net


def _network(model: ir.Model, folding: Mapping[str, Folding], fifo_depth: int,
             overrides: Mapping[str, int], directory: str | Path, top: str) -> Network:
    """The `Network` (no files yet) planned by `hw.gen.graph.plan`."""
    p = plan(model, folding, fifo_depth, overrides)
    return Network(top, Path(directory), p.engines, fifo_depth,
                   config_hash(model, folding, fifo_depth, overrides),
                   model.tensors[model.inputs[0]], p.fifos, p.forks, p.output_src)


def _is(kind: type, value: object) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


# network.json's keys `load` reads, and the check of each value
_DESCRIPTION = {
    "top": lambda v: _is(str, v) and v.isidentifier(),
    "fifo_depth": lambda v: _is(int, v) and v >= 1,
    "config_hash": lambda v: _is(str, v),
    "files": lambda v: isinstance(v, list) and all(_is(str, f) and Path(f).name == f
                                                   and f not in ("", ".", "..") for f in v),
    "folding": lambda v: isinstance(v, dict) and all(isinstance(f, dict) for f in v.values()),
    "fifo_overrides": lambda v: isinstance(v, dict) and all(_is(int, d) and d >= 1
                                                             for d in v.values()),
}
_OPTIONAL = ("folding", "fifo_overrides")


def _read_description(path: Path) -> dict:
    """network.json, checked: readable JSON, an object, every key `load` reads well-formed
    (file names plain names inside the folder)."""
    try:
        desc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FoldingError(f"{path}: not readable JSON ({exc}); regenerate with `hccr rtl`"
                           ) from None
    if not isinstance(desc, dict):
        raise FoldingError(f"{path}: not a JSON object; regenerate with `hccr rtl`")
    for key, ok in _DESCRIPTION.items():
        if key not in desc:
            if key not in _OPTIONAL:
                raise FoldingError(f"{path}: key '{key}' missing; regenerate with `hccr rtl`")
        elif not ok(desc[key]):
            raise FoldingError(f"{path}: key '{key}' malformed: {desc[key]!r}"[:300])
    return desc


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
    desc = _read_description(desc_path)
    try:
        folding = {k: Folding(**v) for k, v in desc.get("folding", {}).items()}
    except (TypeError, ValueError) as exc:
        raise FoldingError(f"{desc_path}: key 'folding' malformed ({exc})") from None
    fifo_depth = desc["fifo_depth"]
    overrides = desc.get("fifo_overrides", {})
    chash = config_hash(model, folding, fifo_depth, overrides)
    if chash != desc.get("config_hash"):
        raise FoldingError(f"{directory}: network.json has config hash "
                           f"{desc.get('config_hash')}, but IR '{model.name}' with its folding "
                           f"and generator {GENERATOR_VERSION} give {chash}: regenerate")
    net = _network(model, folding, fifo_depth, overrides, directory, desc["top"])
    net.files = [directory / name for name in desc["files"]]
    missing = [p.name for p in net.files if not p.is_file()]
    if missing:
        raise FoldingError(f"{directory}: generated files missing: {', '.join(missing)}")
    return net
