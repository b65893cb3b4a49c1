"""The design folder's Vivado scripts, run in a Tcl interpreter that records the Vivado
commands they issue (Vivado itself is not installed here): they parse and run to the end,
the block design instantiates the IP that package_ip.tcl packages under the name the driver
looks for, and each board's board-part pattern matches the board files Vivado ships."""

from __future__ import annotations

import inspect
import tkinter

import numpy as np
import pytest
from ir_factory import all_ops_graph
from typer.testing import CliRunner

from flow.cli import app
from hw.boards import BOARDS
from hw.seq_driver import SeqEngine
from quant import ir

# Board parts as Vivado's board stores name them (PYNQ-Z2 from TUL, ZedBoard from Avnet in
# two generations, ZC706 from Xilinx).
KNOWN_BOARD_PARTS = {"pynq-z2": "tul.com.tw:pynq-z2:part0:1.0",
                     "zedboard": "avnet.com:zedboard:part0:1.4",
                     "zc706": "xilinx.com:zc706:part0:1.4"}
OTHER_PARTS = ["em.avnet.com:zed:part0:1.3", "digilentinc.com:zybo-z7-20:part0:1.0",
               "xilinx.com:zcu102:part0:3.4"]

# Vivado's commands as the scripts use them: each call is recorded; queries answer as an
# installed Vivado with the board files would (file copy/mkdir recorded, not done).
VIVADO = r"""
set calls {}
proc unknown {args} {
  global calls board_parts
  lappend calls $args
  set cmd [lindex $args 0]
  switch -- $cmd {
    get_board_parts {
      set found {}
      foreach p $board_parts { if {[string match [lindex $args end] $p]} { lappend found $p } }
      return $found
    }
    get_bd_nets { return "" }
    get_bd_cells {
      if {[lsearch $args -filter] >= 0} { return rst_ps7_0_200M }
      return [lindex $args end]
    }
    get_property {
      switch -- [lindex $args 1] {
        STATUS { return "write_bitstream Complete!" }
        CONFIG.FREQ_HZ { return 200000000 }
        SLACK { return 0.25 }
        DIRECTORY { return /impl_1 }
      }
      return ""
    }
    ipx::current_core { return core }
    default { return [lindex $args end] }
  }
}
rename file _file
proc file {sub args} {
  global calls
  if {$sub in {copy mkdir}} { lappend calls [list file $sub {*}$args]; return }
  return [_file $sub {*}$args]
}
"""


def run_vivado_script(script, board_parts):
    """The Vivado commands `script` issues, each a list of words."""
    tcl = tkinter.Tcl()
    tcl.eval(VIVADO)
    tcl.eval(f"set argv {{}}; set board_parts {{{' '.join(board_parts)}}}")
    tcl.eval(f"source {{{script}}}")
    return [list(tcl.splitlist(c)) for c in tcl.splitlist(tcl.eval("set calls"))]


def find(calls, *words):
    """The calls that begin with `words`."""
    return [c for c in calls if c[:len(words)] == list(words)]


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overlay")
    model = all_ops_graph(np.random.default_rng(11), size=32, fc_dtype="int8")
    ir.save(model, tmp / "ir")
    out = tmp / "seq"
    result = CliRunner().invoke(app, ["rtl", "--ir", str(tmp / "ir"), "--out", str(out),
                                      "--mode", "sequential", "--pe", "4", "--simd", "8",
                                      "--tile-kb", "8"])
    assert result.exit_code == 0, result.output
    return out


def test_the_overlay_build_instantiates_the_packaged_ip_where_the_driver_looks(design):
    calls = run_vivado_script(design / "vivado" / "build_overlay.tcl",
                              [*KNOWN_BOARD_PARTS.values(), *OTHER_PARTS])
    # ip/ is empty, so the IP is packaged first, under the name the block design uses
    package = find(calls, "ipx::package_project")[0]
    vendor, library = (package[package.index(flag) + 1] for flag in ("-vendor", "-library"))
    name = find(calls, "set_property", "name")[0][2]
    version = find(calls, "set_property", "version")[0][2]
    assert find(calls, "ipx::associate_bus_interfaces", "-clock", "clk", "-reset", "rst_n")
    cell = find(calls, "create_bd_cell", "-type", "ip", "-vlnv", f"{vendor}:{library}:{name}:"
                f"{version}")
    instance = inspect.signature(SeqEngine.from_overlay).parameters["ip"].default
    assert [c[-1] for c in cell] == [instance]
    project = find(calls, "create_project", "-force", "hccr_seq")[0]
    assert project[-2:] == ["-part", "xc7z020clg400-1"]
    assert find(calls, "set_property", "board_part", KNOWN_BOARD_PARTS["pynq-z2"])
    ps7 = " ".join(find(calls, "set_property", "-dict")[0])
    assert "CONFIG.PCW_USE_S_AXI_HP0 1" in ps7 and "CONFIG.PCW_S_AXI_HP0_DATA_WIDTH 64" in ps7
    assert "CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ 200" in ps7
    assert find(calls, "connect_bd_net", f"{instance}/irq", "ps7/IRQ_F2P")
    assert find(calls, "connect_bd_net", "rst_ps7_0_200M/peripheral_aresetn", f"{instance}/rst_n")
    assert find(calls, "make_wrapper", "-files", "hccr_seq.bd", "-top", "-import")
    assert find(calls, "set_property", "top", "hccr_seq_wrapper")
    assert find(calls, "launch_runs", "impl_1", "-to_step", "write_bitstream", "-jobs", "4")
    copies = [c[-1] for c in find(calls, "file", "copy")]
    assert [p.split("/")[-2:] for p in copies] == [["overlay", "hccr_seq.bit"],
                                                  ["overlay", "hccr_seq.hwh"]]


def test_without_the_board_files_the_build_stops_with_a_named_error(design):
    with pytest.raises(tkinter.TclError, match="no board part matching .*pynq-z2.* installed"):
        run_vivado_script(design / "vivado" / "build_overlay.tcl", OTHER_PARTS)


@pytest.mark.parametrize("name", BOARDS)
def test_each_board_part_pattern_matches_its_board_files_only(name):
    tcl = tkinter.Tcl()
    pattern = BOARDS[name].board_part
    matches = [p for p in [*KNOWN_BOARD_PARTS.values(), *OTHER_PARTS]
               if tcl.eval(f"string match {{{pattern}}} {{{p}}}") == "1"]
    assert KNOWN_BOARD_PARTS[name] in matches
    assert all(p in (KNOWN_BOARD_PARTS[name], "em.avnet.com:zed:part0:1.3") for p in matches)
