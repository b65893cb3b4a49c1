"""File lists of the RTL: every module's sources in compile order, and `<engine>.f` files.

A table names what each engine module uses directly (hand-written modules and packages of
`hw/rtl/`); the shared parts' own uses are `PARTS` here. `sources` closes the table over
those uses and orders it so that each file comes after everything it uses (the package
first), which is the order Yosys needs. `<engine>.f` holds that list, one path a line relative
to the `.f` itself (Verilator `-F`, Vivado `read_verilog -sv` of each line), like verilog-axis's
`axis_fifo_adapter.f`; they are generated, not kept in git, so they cannot go stale.

    python -m hw.gen.write_filelists [DIR]   # write DIR/<engine>.f (default build/filelists/)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

RTL_DIR = Path(__file__).resolve().parents[1] / "rtl"
DEFAULT_DIR = RTL_DIR.parents[1] / "build" / "filelists"
# Shared parts of hw/rtl -> what they use directly.
PARTS: dict[str, tuple[str, ...]] = {
    "hccr_pkg": (),
    "fifo": (),
    "broadcast": (),
    "window": ("hccr_pkg",),
    "hwc_counter": ("hccr_pkg",),
    "requantiser": ("hccr_pkg",),
    "mac_array": ("hccr_pkg",),
    "lane_fifo": ("fifo",),
    "rq_tail": ("hwc_counter", "requantiser", "lane_fifo"),
}
HEADER = "// {top}: its sources in compile order (hw/gen/filelist.py writes this file)\n"


class FileListError(ValueError):
    """A module the table does not know, or modules that use each other."""


def sources(top: str, uses: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """`top` and every module it needs, each after all it uses (so `top` comes last).

    Args:
        top: a module of `uses` or of `PARTS`.
        uses: engine module -> the modules and packages it uses directly.

    Raises:
        FileListError: a module in neither table, or a cycle of uses.
    """
    order: list[str] = []
    path: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in path:
            raise FileListError(f"hw/rtl modules use each other: {' -> '.join([*path, name])}")
        deps = uses.get(name, PARTS.get(name))
        if deps is None:
            where = f" (used by {path[-1]})" if path else ""
            raise FileListError(f"hw/rtl module {name}{where} is in no dependency table")
        path.append(name)
        for dep in deps:
            visit(dep)
        path.pop()
        order.append(name)

    visit(top)
    return tuple(order)


def filelist(top: str, uses: Mapping[str, Sequence[str]], directory: Path = RTL_DIR) -> str:
    """The text of `<top>.f` written in `directory` (paths relative to it)."""
    rel = os.path.relpath(RTL_DIR, directory.resolve())
    return HEADER.format(top=top) + "".join(f"{Path(rel, m)}.sv\n"
                                            for m in sources(top, uses))


def write_filelists(uses: Mapping[str, Sequence[str]], directory: Path = DEFAULT_DIR
                    ) -> list[Path]:
    """Write `<engine>.f` for every engine module of `uses` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for top in uses:
        path = directory / f"{top}.f"
        path.write_text(filelist(top, uses, directory))
        paths.append(path)
    return paths
