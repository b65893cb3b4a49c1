"""FPGA device budgets: the resources a design may use and a typical clock.

Numbers from the Xilinx product tables: Zynq-7000 SoC Data Sheet DS190 (Table 3, "Zynq-7000
SoC Family": xc7z010 17,600 LUTs / 35,200 FFs / 80 DSP48E1 / 60 BRAM36 (2.1 Mb); xc7z020
53,200 / 106,400 / 220 / 140 (4.9 Mb); xc7z045 218,600 / 437,200 / 900 / 545 (19.2 Mb)) and
Zynq UltraScale+ MPSoC Product Selection Guide / DS891 (xczu3eg 70,560 LUTs / 141,120 FFs /
360 DSP48E2 / 216 BRAM36 (7.6 Mb); xczu9eg 274,080 / 548,160 / 2,520 / 912 (32.1 Mb)).
One BRAM36 is two BRAM18. `fmax_mhz` is a typical clock for a pipelined int8 dataflow design
at the slowest speed grade (Artix-class fabric of z010/z020: 200 MHz; Kintex-class z045:
250 MHz; UltraScale+: 300 MHz), not the primitives' data-sheet maximum. The PS-PL high-
performance ports: four 64-bit AXI HP ports (Zynq-7000 TRM UG585, ch. 5), about 1.2 GB/s
each in practice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from base.errors import HccrError

T = TypeVar("T")


class DeviceError(HccrError):
    """An unknown device name."""


@dataclass(frozen=True)
class Device:
    """One device's budget.

    Attributes:
        name: part name without package/speed grade.
        lut, ff, dsp, bram36: totals (DSP48E1/E2 slices; 36 Kb block RAMs).
        fmax_mhz: typical clock of a dataflow design on it.
        hp_ports: AXI high-performance PS-PL ports; `hp_gb_s` each (GB/s, in practice).
    """

    name: str
    lut: int
    ff: int
    dsp: int
    bram36: int
    fmax_mhz: int
    hp_ports: int = 4
    hp_gb_s: float = 1.2

    @property
    def bram18(self) -> int:
        return 2 * self.bram36

    @property
    def bram_bytes(self) -> int:
        """Block RAM capacity in bytes (36 Kb each, 32 Kb of data + 4 Kb parity)."""
        return self.bram36 * 36 * 1024 // 8

    @property
    def ddr_gb_s(self) -> float:
        """Bandwidth of all HP ports together."""
        return self.hp_ports * self.hp_gb_s

    def budget(self) -> dict[str, int]:
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp, "bram36": self.bram36}


DEVICES = {d.name: d for d in (
    Device("xc7z010", 17_600, 35_200, 80, 60, 200),
    Device("xc7z020", 53_200, 106_400, 220, 140, 200),
    Device("xc7z045", 218_600, 437_200, 900, 545, 250),
    Device("xczu3eg", 70_560, 141_120, 360, 216, 300),
    Device("xczu9eg", 274_080, 548_160, 2_520, 912, 300),
)}


def lookup(table: Mapping[str, T], name: str, what: str) -> T:
    """The entry of `table` (keys in lower case) called `name`, case-insensitive.

    Raises:
        DeviceError: an unknown name, saying `what` it names and listing the known ones.
    """
    found = table.get(name.lower())
    if found is None:
        raise DeviceError(f"unknown {what} {name!r} (known: {', '.join(table)})")
    return found


def device(name: str) -> Device:
    """The device called `name` (case-insensitive); `DeviceError` if unknown."""
    return lookup(DEVICES, name, "device")
