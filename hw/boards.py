"""Boards: a device and the DDR memory the processing system gives the fabric.

A layer-sequential engine streams its weights from the board's DDR, so its bandwidth is the
board's DDR, not the sum of the PS-PL ports (four 64-bit HP ports could take ~4.8 GB/s, more
than a 16-bit DDR3 gives). Sustained bandwidth = bus bytes × transfers/s × the utilisation
Xilinx's Zynq-7000 TRM (UG585, DDR memory controller) gives for mixed traffic, about 75 %.
Memories: PYNQ-Z2 (TUL) 512 MB DDR3, 16-bit, 1050 MT/s; ZedBoard (Avnet/Digilent) 512 MB
DDR3, 32-bit, 1066 MT/s; ZC706 (Xilinx UG954) 1 GB PS DDR3, four ×8 devices = 32-bit,
1066 MT/s.
"""

from __future__ import annotations

from dataclasses import dataclass

from hw.devices import Device, device, lookup

DDR_UTILISATION = 0.75


@dataclass(frozen=True)
class Board:
    """A board: its device, the full part (package, speed grade) Vivado needs, its PS DDR
    (bus width in bits, mega-transfers per second), and a pattern of its Vivado board part
    (the board files that carry its PS preset: DDR timing, MIO)."""

    name: str
    part: str
    package: str
    ddr_bits: int
    ddr_mt_s: int
    board_part: str

    @property
    def device(self) -> Device:
        return device(self.part)

    @property
    def ddr_gb_s(self) -> float:
        """Sustained DDR bandwidth in GB/s (`DDR_UTILISATION` of the peak)."""
        return self.ddr_bits / 8 * self.ddr_mt_s * 1e6 * DDR_UTILISATION / 1e9

    def ddr_bytes_per_cycle(self, clock_mhz: float) -> float:
        """Sustained DDR bytes per cycle of a fabric clock."""
        return self.ddr_gb_s * 1e9 / (clock_mhz * 1e6)


BOARDS = {b.name: b for b in (
    Board("pynq-z2", "xc7z020", "xc7z020clg400-1", 16, 1050, "*:pynq-z2:part0:*"),
    Board("zedboard", "xc7z020", "xc7z020clg484-1", 32, 1066, "*:zed*:part0:*"),
    Board("zc706", "xc7z045", "xc7z045ffg900-2", 32, 1066, "xilinx.com:zc706:part0:*"),
)}


def board(name: str) -> Board:
    """The board called `name` (case-insensitive); `DeviceError` if unknown."""
    return lookup(BOARDS, name, "board")


def board_of(part: str) -> Board | None:
    """The first board (in `BOARDS` order) carrying the device `part`, if any."""
    return next((b for b in BOARDS.values() if b.part == part.lower()), None)
