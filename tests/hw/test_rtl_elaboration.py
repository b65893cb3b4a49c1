"""Illegal parameter combinations stop elaboration ($fatal): the Verilator build fails and
says why."""

from __future__ import annotations

import pytest

from sim import runner

pytestmark = pytest.mark.rtl

CONV = {"H": 4, "W": 4, "IC": 4, "OC": 4}


@pytest.mark.parametrize(("top", "params", "message"), [
    ("fifo", {"DEPTH": 12}, "power of two"),
    ("mac_array", {"IN_SIGNED": 0, "IN_ZP": -1}, "IN_ZP=-1 outside"),
    ("mac_array", {"PE": 0}, "must be >= 1"),
    ("mac_array", {"SIMD": 512, "ACC_W": 20}, "ACC_W=20"),
    ("mac_array", {"SIMD": 6, "SEGMENTS": 4}, "SEGMENTS=4 must be a power of two"),
    ("requantiser", {"OUT_SIGNED": 0, "OUT_ZP": 256}, "OUT_ZP=256 outside"),
    ("requantiser", {"OUT_W": 32, "OUT_SIGNED": 0}, "no int/uint dtype"),
    ("requantiser", {"ACC_W": 40}, "ACC_W=40"),
    ("window", {"C": 6, "SIMD": 4, "INNER": 1}, "SIMD=4 must divide C=6"),
    ("window", {"PT": 3}, "must be smaller than the kernel"),
    ("conv2d", {**CONV, "PE": 3}, "PE=3 must divide OC=4"),
    ("conv2d", {**CONV, "SIMD": 3}, "SIMD=3 must divide IC=4"),
    ("conv2d", {**CONV, "OUT_W": 16}, "OUT_W=16"),
    ("conv2d", {**CONV, "KH": 6, "PT": 0, "PB": 0}, "larger than the padded input"),
    ("maxpool", {"C": 3, "SIMD": 2}, "SIMD=2 must divide C=3"),
    ("avgpool", {"C": 3, "SIMD": 2}, "SIMD=2 must divide C=3"),
    ("avgpool", {"SHIFT": 47}, "SHIFT=47 in 0..46"),
    ("dense", {"N_IN": 10, "SIMD": 4}, "SIMD=4 must divide IC=10"),
    ("global_avgpool", {"MULT": 0}, "MULT=0 must be in 1..32768"),
    ("add", {"SHIFT": 47}, "SHIFT=47 in 0..46"),
    ("rq_tail", {"OUT_W": 16}, "OUT_W=16 must be 8 or 32"),
    ("concat", {"N": 3}, "C2=0 must be >= 1"),
    ("concat", {"C2": 4}, "C2=4 must be >= 1 for the N=2 inputs and 0 beyond"),
    ("mul", {"MULT": 0}, "MULT=0 must be in 1..32768"),
    ("sigmoid", {"N": 0}, "PIXELS=1 CHANNELS=0 must be >= 1"),
    ("reduce_channels", {"MAX_MODE": 1, "OUT_ZP": 3}, "max needs MULT=1"),
    ("gwap", {"H": 0}, "PIXELS=0 CHANNELS=1 must be >= 1"),
    ("prelu", {"M_POS": 40000}, "M_POS=40000 must be in 1..32768"),
    ("requant", {"SHIFT": 50}, "SHIFT=50 in 0..46"),
])
def test_illegal_parameters_stop_the_build(top: str, params: dict, message: str,
                                           build_root) -> None:
    sources = [*runner.DEPENDENCIES.get(top, ()), top]
    with pytest.raises(runner.SimError, match=message):
        runner.build(top, sources, params, root=build_root)
