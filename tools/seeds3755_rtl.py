"""The layer-sequential engine's RTL (xc7z020's PE 16 × SIMD 16, shift-only for a
power-of-two IR, on PYNQ-Z2's DDR, free-running Verilator harness `sim.seq_freerun`) on the
first held-out images of an IR, bit for bit against golden; a step of tools/seeds3755.sh.
Writes `result.json` into OUT last; exits 1 on a mismatch.

    python tools/seeds3755_rtl.py IR TEST_DATA OUT [IMAGES]   (IMAGES: 20, at least a batch)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from base.errors import HccrError
from hw.boards import board
from hw.gen.seq.batch import choose_batch
from hw.gen.seq.config import DEFAULT_ARRAY, board_config, shift_only
from model.data.dataset import load_images
from quant import ir
from quant.export import read_labels
from sim.seq_freerun import run_against_golden


def main(ir_dir: Path, test: Path, out: Path, images: int) -> int:
    """Simulate, compare, write `result.json`; the exit status (0: every image bit-exact)."""
    model = ir.load(ir_dir)
    program = choose_batch(model, board_config(board("pynq-z2"), *DEFAULT_ARRAY,
                                                unit_m=shift_only(model))).program
    images = max(images, program.header.batch)
    size = model.tensors[model.inputs[0]].shape[0]
    data, _ = load_images(test, size).restrict(read_labels(ir_dir))
    if len(data.labels) < images:
        raise HccrError(f"{test}: {len(data.labels)} held-out images, {images} needed")
    x = data.images[:images, ..., None]
    result = run_against_golden(model, program, x, out / "sim")
    exact = result["bit_exact"]
    print(f"RTL (layer-sequential, free-running): {exact}/{images} held-out images bit-exact, "
          f"{result['cycles_per_image']:,.0f} cycles/image "
          f"({result['cycles_per_image'] / result['contract_per_image']:.3f} × contract)")
    if exact != images:
        print(f"error: {ir_dir}: {images - exact} images differ from golden on the RTL")
        return 1
    (out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    target = Path(sys.argv[3])
    target.mkdir(parents=True, exist_ok=True)
    try:
        sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), target,
                      int(sys.argv[4]) if len(sys.argv) == 5 else 20))
    except HccrError as exc:
        sys.exit(f"error: {exc}")
