"""Folding configs: a JSON file of PE/SIMD per layer name, checked, or one chosen to balance.

File format (`hccr rtl --folding FILE`): `{"conv1": {"PE": 16, "SIMD": 1}, "fc": {"SIMD": 4}}`.
A missing key means 1. Unknown layer names, layers without an engine (e.g. reshape), unknown
keys, non-positive or non-integer values, PE on a layer without output-channel parallelism
(maxpool), any folding of an unfolded engine (global_avgpool, add) and PE/SIMD that do not
divide the layer's channels are errors naming the layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from hw.gen.engines import Folding, FoldingError, engine_for
from hw.gen.graph import PASS_THROUGH
from quant import ir

KEYS = ("PE", "SIMD")


def check_folding(model: ir.Model, folding: Mapping[str, Folding]) -> dict[str, Folding]:
    """`folding` checked against `model` (see the module doc); returns a plain dict.

    Raises:
        FoldingError: the first problem, naming the layer.
    """
    ops = {op.name: op for op in model.ops}
    for name, fold in folding.items():
        op = ops.get(name)
        if op is None:
            raise FoldingError(f"folding names no layer: {name} (layers: {', '.join(ops)})")
        if op.kind in PASS_THROUGH:
            raise FoldingError(f"{name}: a {op.kind} has no engine to fold")
        engine_for(op, model, fold)  # divisibility, PE/SIMD the engine takes, op support
    return dict(folding)


def load_folding(path: str | Path, model: ir.Model) -> dict[str, Folding]:
    """Read and check a folding JSON file.

    Raises:
        FoldingError: unreadable JSON or any problem `check_folding` finds.
    """
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FoldingError(f"{path}: cannot read folding JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise FoldingError(f"{path}: expected an object of layer name -> {{PE, SIMD}}")
    folding = {}
    for name, entry in doc.items():
        if not isinstance(entry, dict):
            raise FoldingError(f"{name}: expected {{\"PE\": n, \"SIMD\": n}}, got {entry!r}")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise FoldingError(f"{name}: unknown folding key(s) {', '.join(unknown)} "
                               f"(allowed: {', '.join(KEYS)})")
        values = {}
        for key in KEYS:
            v = entry.get(key, 1)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise FoldingError(f"{name}: {key}={v!r} must be a positive integer")
            values[key] = v
        folding[name] = Folding(values["PE"], values["SIMD"])
    return check_folding(model, folding)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def balanced_folding(model: ir.Model, target: int | None = None) -> dict[str, Folding]:
    """The least parallel PE/SIMD per conv/dense layer whose cycles fit `target`.

    `target` defaults to the largest stream of the network (elements per image on any
    engine's input or output, one element per beat), below which folding gains nothing.
    Layers that fit unfolded keep PE = SIMD = 1 and are left out of the result.
    """
    engines = [engine_for(op, model) for op in model.ops if op.kind not in PASS_THROUGH]
    target = target or max(max(e.in_beats, e.out_beats) for e in engines)
    folding = {}
    for op, eng in zip([op for op in model.ops if op.kind not in PASS_THROUGH], engines,
                       strict=True):
        if eng.cycles <= target or op.kind not in ("conv2d", "dense"):
            continue
        cin, cout = op.weight.shape[-2], op.weight.shape[-1]
        best = None
        for pe in _divisors(cout):
            for simd in _divisors(cin):
                cycles = eng.cycles // (pe * simd)
                key = (pe * simd, simd)
                if cycles <= target and (best is None or key < best[0]):
                    best = (key, Folding(pe, simd))
        folding[op.name] = best[1] if best else Folding(cout, cin)
    return folding
