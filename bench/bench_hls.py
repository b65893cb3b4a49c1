"""hls4ml back end speed: generate + g++ compile of a demo-size network vs the 3-minute target.

The network has the demo's shape (64×64×1 uint8 input, conv 16/32/64/96 with 2×2 pools, dense
to 100 int8 logits) and random power-of-two-scheme weights: the timing depends on the shape,
not on training.

`python -m bench.bench_hls ARCH[:SIZE[:CLASSES]] ...` instead runs full-size seed networks
(`seed_csim`; minutes each, not part of `make bench`): random init, BN statistics and QAT
observers calibrated on random images, POT export, then golden vs C-sim on every layer.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hw.hls.compare import compare_hls
from hw.hls.config import HlsConfig
from hw.hls.project import write_project
from quant import ir

TARGET_SECONDS = 180
CHANNELS = (16, 32, 64, 96)
CLASSES = 100
SIZE = 64
CSIM_IMAGES = 10


def _rq(rng: np.random.Generator, taps: int, n: int) -> dict[str, np.ndarray]:
    shift = round(math.log2(math.sqrt(taps) * 127 * 64)) - 5
    return {"bias": rng.integers(-(2**12), 2**12, n).astype(np.int32),
            "multiplier": np.ones(n, np.int32),
            "shift": (shift + rng.integers(0, 2, n)).astype(np.int32)}


def demo_shaped_model(seed: int = 0) -> ir.Model:
    """A random power-of-two IR with the demo network's layers."""
    rng = np.random.default_rng(seed)
    t = {"input": ir.TensorSpec("input", (SIZE, SIZE, 1), "uint8", 2.0**-8, 0)}
    ops: list[ir.Op] = []
    prev, side, cin = "input", SIZE, 1
    for i, cout in enumerate(CHANNELS, 1):
        conv, pool = f"conv{i}", f"pool{i}"
        ops.append(ir.Conv2d(name=conv, inputs=(prev,), output=conv, kernel=(3, 3),
                             stride=(1, 1), padding=(1, 1, 1, 1), relu=True,
                             weight=rng.integers(-127, 128, (3, 3, cin, cout)).astype(np.int8),
                             **_rq(rng, 9 * cin, cout)))
        t[conv] = ir.TensorSpec(conv, (side, side, cout), "uint8", 2.0**-6, 0)
        side //= 2
        ops.append(ir.MaxPool(name=pool, inputs=(conv,), output=pool, kernel=(2, 2),
                              stride=(2, 2), padding=(0, 0, 0, 0)))
        t[pool] = ir.TensorSpec(pool, (side, side, cout), "uint8", 2.0**-6, 0)
        prev, cin = pool, cout
    n_in = side * side * cin
    ops.append(ir.Dense(name="fc", inputs=(prev,), output="fc",
                        weight=rng.integers(-127, 128, (n_in, CLASSES)).astype(np.int8),
                        **_rq(rng, n_in, CLASSES)))
    t["fc"] = ir.TensorSpec("fc", (1, 1, CLASSES), "int8", 2.0**-4, -50)
    model = ir.Model("demo_shaped", t, tuple(ops), ("input",), ("fc",))
    ir.check(model)
    return model


def calibrated_ir(arch: str, size: int, classes: int, seed: int = 0,
                  shapes: dict[str, list[int]] | None = None) -> ir.Model:
    """A seed network, randomly initialised (at pruned widths given `shapes` from
    `model.nets.resize.pruned_shapes`), BN statistics and QAT observers set from random
    images (averages over 4 batches of 8), exported to a power-of-two IR."""
    import torch

    from model.nets import build
    from model.nets.resize import resize_to
    from quant.export import export
    from quant.qat import prepare_qat

    torch.manual_seed(seed)
    net = build(arch, classes, size)
    if shapes is not None:
        resize_to(net, shapes)

    def calibrate(module: torch.nn.Module) -> None:
        module.train()
        with torch.no_grad():
            for _ in range(4):
                module(torch.rand(8, 1, size, size))
        module.eval()

    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    calibrate(net)
    qnet = prepare_qat(net, size, pot=True)
    calibrate(qnet)
    qnet.set_observers_frozen(True)
    return export(qnet.eval(), arch.replace("-", "_"))


def seed_csim(arch: str, size: int, classes: int, images: int, out: Path) -> dict:
    """Golden vs C-sim of a calibrated seed network on `images` random images, every layer.

    Returns:
        images, bit_exact, the number of compared tensors, hls4ml layers, and seconds for
        export, project write, g++ compile and C-sim (+ golden) per image.
    """
    t0 = time.perf_counter()
    model = calibrated_ir(arch, size, classes)
    export_s = time.perf_counter() - t0
    x = np.random.default_rng(1).integers(0, 256, (images, size, size, 1), endpoint=True
                                          ).astype(np.uint8)
    t0 = time.perf_counter()
    project = write_project(model, out, HlsConfig(), {model.inputs[0]: x[:2]})
    write_s = time.perf_counter() - t0
    compile_s = project.compile()
    t0 = time.perf_counter()
    result = compare_hls(project, x, chunk=10)
    csim_s = (time.perf_counter() - t0) / images
    project.clean()
    return {"arch": arch, "size": size, "classes": classes, "images": images,
            "bit_exact": result.bit_exact, "tensors": len(result.layers),
            "ir_ops": len(model.ops), "hls_layers": len(project.lowered.layers),
            "export_s": round(export_s, 1), "write_s": round(write_s, 1),
            "compile_s": round(compile_s, 1), "csim_s_per_image": round(csim_s, 2),
            "summary": result.summary()}


def seeds(args: list[str], images: int = 50) -> None:
    """Run `seed_csim` for each `ARCH[:SIZE[:CLASSES]]` (default 64, 3755), one JSON line each."""
    for arg in args:
        arch, *rest = arg.split(":")
        size, classes = [int(v) for v in rest] + [64, 3755][len(rest):]
        with tempfile.TemporaryDirectory() as tmp:
            row = seed_csim(arch, size, classes, images, Path(tmp) / "prj")
        print(json.dumps(row), flush=True)


def main() -> None:
    model = demo_shaped_model()
    x = np.random.default_rng(1).integers(0, 256, (CSIM_IMAGES, SIZE, SIZE, 1), endpoint=True
                                          ).astype(np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        project = write_project(model, Path(tmp) / "prj", HlsConfig(), {"input": x})
        write_s = time.perf_counter() - t0
        compile_s = project.compile()
        t0 = time.perf_counter()
        result = compare_hls(project, x)
        csim_s = (time.perf_counter() - t0) / CSIM_IMAGES
    total = write_s + compile_s
    print(f"hls: demo-size network ({len(project.lowered.layers)} hls4ml layers): write "
          f"{write_s:.1f} s + g++ compile {compile_s:.1f} s = {total:.1f} s; ratio to the "
          f"{TARGET_SECONDS} s target: {total / TARGET_SECONDS:.2f}; C-sim + golden "
          f"{csim_s:.2f} s/image; {result.summary()}")


if __name__ == "__main__":
    seeds(sys.argv[1:]) if sys.argv[1:] else main()
