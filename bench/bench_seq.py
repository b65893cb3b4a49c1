"""The layer-sequential engine's programs on the full-size seed networks (3755 classes).

For each network: the compiled program on the NumPy program model against golden on every
tensor (images bit-exact), the timing contract's cycles per image (`hw/gen/seq/cycles.py`)
at the batch chosen for the board's DDR (and how many instructions of a split program run
image by image), images/s at 200 MHz and against the 2,000 images/s target, DDR bytes per image and
bandwidth, and the share of xc7z020's DSP roofline (220 DSP × 2 int8 MACs per cycle). The
engine configuration is xc7z020's: PE 16 × SIMD 16, shift-only (the IRs are power-of-two),
162 DSPs, 121 RAMB36 as counted (docs/measurements.md), with the activation buffer
`board_config` gives (whole RAMB18s of bytes in 90 % of the block RAM beside two 64 KiB weight
tiles: 360,448 bytes).

`python -m bench.bench_seq breakdown PE SIMD [ACT_BYTES]` prints where the pruned network's
contract cycles go at that shape on PYNQ-Z2: per opcode (MACs by kernel and input channels
against SIMD), the most expensive MAC instructions, and the array's beats against its MACs
(how full the lanes are: the network's channel counts against PE and SIMD).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from base.errors import HccrError
from bench.bench_hls import calibrated_ir
from hw.boards import board
from hw.estimate.network import op_macs
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.check import check_program
from hw.gen.seq.config import board_config
from hw.gen.seq.cycles import mac_beats, program_cycles
from hw.gen.seq.isa import Instruction

PRUNED = Path(__file__).parent / "data" / "sqnxt_ccbam_slim_x8_shapes.json"
NETWORKS = [("sqnxt-ccbam pruned", "sqnxt-ccbam", 64, True), ("sqnxt-ccbam", "sqnxt-ccbam", 64,
                                                              False),
            ("cnn9", "cnn9", 96, False), ("fire-gwap-cascade", "fire-gwap-cascade", 64, False),
            ("eca-resnet18", "eca-resnet18", 64, False)]
IMAGES = 5  # two batches at batch 4 (the last one short)
DSP = 220
TARGET = 2000  # images/s the plan asks of the pruned network


def _group(ins: Instruction, simd: int) -> str:
    """An instruction's breakdown row: its opcode, a MAC's kernel and input channels."""
    if ins.opcode.name != "MAC":
        return ins.opcode.name
    c = ins["a_c"]
    fit = "C ≤ 16" if c <= 16 else "C ≤ SIMD" if c <= simd else "C > SIMD"
    return f"MAC {ins['kh']}×{ins['kw']} {fit}"


def breakdown(pe: int, simd: int, act_bytes: int | None = None, top: int = 12) -> None:
    """The pruned network's contract cycles per image at PE × SIMD (module doc)."""
    model = calibrated_ir("sqnxt-ccbam", 64, 3755, shapes=json.loads(PRUNED.read_text()))
    choice = choose_batch(model, board_config(board("pynq-z2"), pe, simd, act_bytes))
    program, total = choice.program, choice.cycles_per_image
    per = [c / program.header.batch for _, _, c in program_cycles(program)]
    print(f"seq pruned PE {pe} × SIMD {simd}: batch {program.header.batch}, {total:,.0f} "
          f"cycles/image = {choice.images_per_s:,.0f} images/s at 200 MHz")
    groups: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for ins, c in zip(program.instructions, per, strict=True):
        g = groups[_group(ins, simd)]
        g[0] += 1
        g[1] += c
    for name, (n, c) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        print(f"  {name:20s} {n:4d} instructions {c:9,.0f} cycles/image {c / total:6.1%}")
    ops: dict[str, list] = defaultdict(lambda: [0.0, None])
    for ins, c in zip(program.instructions, per, strict=True):
        if ins.opcode.name == "MAC":  # a split head's op runs once per image slot
            ops[ins.op][0] += c
            ops[ins.op][1] = ins
    for op, (c, ins) in sorted(ops.items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"  {op:32s} {ins['kh']}×{ins['kw']} C {ins['a_c']:4d} → {ins['y_c']:4d} "
              f"at {ins['y_h']}×{ins['y_w']}, {ins['tiles']:3d} tiles: {c:8,.0f} cycles/image")
    macs = sum(op_macs(op, model) for op in model.ops)
    print(f"  MAC array busy {macs / (pe * simd * total):.1%} of the image's cycles "
          f"({macs / 1e6:.1f} M MACs on {pe * simd} multipliers)")
    batch = program.header.batch
    beats = sum(mac_beats(ins, simd, 1 if ins["once"] else batch) * ins["tiles"]
                for ins in program.instructions if ins.opcode.name == "MAC") / batch
    mac = sum(c for c, _ in ops.values())
    print(f"  array beats {beats:,.0f} cycles/image (lanes filled {macs / (pe * simd * beats):.1%}:"
          f" channels against PE and SIMD), MAC set-up and fetch {mac - beats:,.0f}, other "
          f"instructions {total - mac:,.0f}")


def main(argv: list[str] | None = None) -> None:
    if argv:
        p = argparse.ArgumentParser(prog="bench.bench_seq")
        p.add_argument("command", choices=("breakdown",))
        p.add_argument("pe", type=int)
        p.add_argument("simd", type=int)
        p.add_argument("act_bytes", type=int, nargs="?")
        a = p.parse_args(argv)
        if min(a.pe, a.simd) < 1 or (a.act_bytes is not None and a.act_bytes < 1):
            sys.exit(f"error: PE {a.pe}, SIMD {a.simd}, ACT_BYTES {a.act_bytes}: must be ≥ 1")
        try:
            breakdown(a.pe, a.simd, a.act_bytes)
        except (HccrError, ValueError) as exc:
            sys.exit(f"error: PE {a.pe} × SIMD {a.simd}: {exc}")
        return
    shapes = json.loads(PRUNED.read_text())
    for label, arch, size, pruned in NETWORKS:
        model = calibrated_ir(arch, size, 3755, shapes=shapes if pruned else None)
        macs = sum(op_macs(op, model) for op in model.ops)
        roofline = DSP * 2 * 200e6 / macs
        for name in ("pynq-z2", "zedboard"):
            b = board(name)
            cfg = board_config(b, 16, 16, unit_m=True)
            try:
                choice = choose_batch(model, cfg)
            except HccrError as exc:
                print(f"seq {label} on {name}: does not compile: {exc}")
                continue
            x = np.random.default_rng(0).integers(
                0, 256, (IMAGES, *model.tensors[model.inputs[0]].shape)).astype(np.uint8)
            start = time.perf_counter()
            result = check_program(model, choice.program, x)
            seconds = time.perf_counter() - start
            program = choice.program
            head = sum(ins["once"] for ins in program.instructions) // program.header.batch
            print(f"seq {label} ({macs / 1e6:.1f} M MACs) on {name}: program model "
                  f"{result.bit_exact}/{IMAGES} images bit-exact on {len(result.layers)} "
                  f"tensors ({seconds / IMAGES:.2f} s/image with golden); batch "
                  f"{program.header.batch} ({head} of "
                  f"{len(program.instructions) - head * (program.header.batch - 1)} "
                  f"instructions image by image), {choice.cycles_per_image:,.0f} cycles/image "
                  f"= {choice.images_per_s:,.0f} images/s at 200 MHz "
                  f"({choice.images_per_s / TARGET:.0%} of the {TARGET:,} target), "
                  f"{choice.images_per_s / roofline:.1%} of the {roofline:,.0f} images/s DSP "
                  f"roofline; DDR {choice.ddr_bytes_per_image / 1e6:.2f} MB/image, "
                  f"{choice.ddr_gb_s:.2f} of {b.ddr_gb_s:.2f} GB/s")


if __name__ == "__main__":
    main(sys.argv[1:])
