"""An RTL output folder (`hccr rtl --out DIR`): the generated network plus the IR it came from.

`write_rtl_dir` generates into a temporary sibling folder and renames it into place only when
everything was written, so a failed run never leaves a folder that looks complete. The copy of
the IR in `DIR/ir/` makes the folder self-contained: `open_rtl_dir` (used by `hccr sim`)
reloads both and checks that they still belong together (config hash).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from hw.gen.engines import Folding, FoldingError
from hw.gen.network import Network, generate, load
from quant import ir

IR_SUBDIR = "ir"


def write_rtl_dir(model: ir.Model, out: str | Path,
                  folding: Mapping[str, Folding] | None = None) -> Network:
    """Generate the network for `model` into `out` (replacing an earlier `hccr rtl` output).

    Raises:
        FoldingError: what `generate` refuses, or `out` holds something else.
    """
    out = Path(out)
    if out.exists() and not (out / "network.json").is_file() and any(out.iterdir()):
        raise FoldingError(f"{out}: exists and is not an RTL folder (no network.json); "
                           "refusing to replace it")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        generate(model, tmp, folding)
        ir.save(model, tmp / IR_SUBDIR)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return open_rtl_dir(out)[1]


def open_rtl_dir(directory: str | Path) -> tuple[ir.Model, Network]:
    """The IR and the network of an RTL folder.

    Raises:
        FoldingError: not an RTL folder, or its files do not belong together.
    """
    directory = Path(directory)
    if not (directory / IR_SUBDIR / "model.json").is_file():
        raise FoldingError(f"{directory}: not an RTL folder (no {IR_SUBDIR}/model.json; "
                           "write one with `hccr rtl`)")
    model = ir.load(directory / IR_SUBDIR)
    return model, load(directory, model)
