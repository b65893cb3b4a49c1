"""A compiled program on disk, as `hccr rtl` writes it and the board driver reads it:

- `program.bin`: header + instructions (what PROGRAM_BASE points at);
- `data.bin`: the data block (DATA_BASE);
- `program.json`: the header fields (for people; checked against `program.bin`), the engine
  configuration, the input/output record layout and every tensor's view, the regions and the
  compiler's notes per instruction (IR op, tensors it completes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

from base.errors import HccrError
from hw.gen.seq.compiler import Program, View
from hw.gen.seq.config import EngineConfig
from hw.gen.seq.executor import decode
from hw.gen.seq.isa import Header

PROGRAM_BIN, DATA_BIN, PROGRAM_JSON = "program.bin", "data.bin", "program.json"
FORMAT = 1  # version of program.json's layout


def save_program(program: Program, folder: Path) -> list[Path]:
    """Write `program.bin`, `data.bin` and `program.json` into `folder`; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "model": program.model_name,
        "header": asdict(program.header),
        "config": asdict(program.config),
        "inputs": program.inputs,
        "outputs": program.outputs,
        "regions": program.regions,
        "shared": sorted(program.shared),
        "stacked": program.stacked,
        "fused": sorted(program.fused),
        "views": {name: asdict(v) for name, v in program.views.items()},
        "notes": [[ins.op, list(ins.produces)] for ins in program.instructions],
    }
    paths = [folder / PROGRAM_BIN, folder / DATA_BIN, folder / PROGRAM_JSON]
    paths[0].write_bytes(program.encode())
    paths[1].write_bytes(program.data)
    paths[2].write_text(json.dumps(meta, indent=1) + "\n")
    return paths


def load_program(folder: Path) -> Program:
    """The program `save_program` wrote into `folder`.

    Raises:
        HccrError: a file is missing, not this program format (another version, a field
            missing or of the wrong kind), or the JSON disagrees with the binaries (header
            fields, data size).
    """
    folder = Path(folder)
    try:
        text = (folder / PROGRAM_JSON).read_text()
        raw, data = (folder / PROGRAM_BIN).read_bytes(), (folder / DATA_BIN).read_bytes()
    except FileNotFoundError as exc:
        raise HccrError(f"{folder}: not a saved program ({exc.filename} is missing)") from None
    try:
        return _program(json.loads(text), raw, data, folder)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HccrError(f"{folder / PROGRAM_JSON}: not a saved program's description "
                        f"({type(exc).__name__}: {exc})") from None


def _program(meta: dict, raw: bytes, data: bytes, folder: Path) -> Program:
    if meta.get("format") != FORMAT:
        raise HccrError(f"{folder / PROGRAM_JSON}: format {meta.get('format')}, "
                        f"this version reads {FORMAT}")
    header, instructions = decode(raw)
    if header != Header(**meta["header"]) or len(data) != header.data_bytes:
        raise HccrError(f"{folder}: {PROGRAM_JSON} does not describe {PROGRAM_BIN} and "
                        f"{DATA_BIN} (header {header}, {len(data)} data bytes)")
    for ins, (op, produces) in zip(instructions, meta["notes"], strict=True):
        ins.op, ins.produces = op, tuple(produces)
    views = {name: View(**{**v, "shape": tuple(v["shape"])}) for name, v in meta["views"].items()}
    config = EngineConfig(**{f.name: meta["config"][f.name] for f in fields(EngineConfig)
                             if f.name in meta["config"]})  # programs saved before unit_m
    stacked = {name: (int(kh), int(pad_t))
               for name, (kh, pad_t) in meta.get("stacked", {}).items()}
    return Program(config, header, instructions, data, meta["regions"], views,
                   [tuple(io) for io in meta["inputs"]], [tuple(io) for io in meta["outputs"]],
                   meta["model"], frozenset(meta.get("shared", ())),
                   frozenset(meta.get("fused", ())), stacked)
