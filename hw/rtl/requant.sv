// Requantisation engine (DESIGN.md "Integer IR", the op requant; requantiser.sv is the
// requantiser inside every engine): per element
//   y = clamp(OUT_ZP + (((x - IN_ZP) * MULT + r) >>> SHIFT))
// into another scale, zero point or dtype (the exporter puts one before a concat input whose
// quantisation differs from the output's). Input and output: N elements per image, images back
// to back; tlast on each image's last. One element per cycle (cycles per image: N), taken
// while a result FIFO slot is free (rq_tail.sv credits).
`default_nettype none

module requant #(
  parameter int unsigned N = 16,           // elements per image (H*W*C)
  parameter bit          IN_SIGNED = 1'b1, // input dtype int8 (1) or uint8 (0)
  parameter int          IN_ZP = 0,        // input zero point
  parameter int unsigned OUT_W = 8,        // output element width: 8 or 32 (int32)
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype signed
  parameter int          OUT_ZP = 0,       // output zero point
  parameter int unsigned MULT = 1,         // requantiser multiplier M, 1..32768
  parameter int unsigned SHIFT = 0,        // requantiser shift s, 0..46
  parameter int unsigned FIFO_DEPTH = 16   // result FIFO entries, a power of two >= 2
) (
  input  wire                clk,
  input  wire                rst_n,          // synchronous, active low

  input  wire  [7:0]         s_axis_tdata,
  input  wire                s_axis_tvalid,
  output logic               s_axis_tready,
  input  wire                s_axis_tlast,   // unused: an image is N beats

  output logic [OUT_W-1:0]   m_axis_tdata,
  output logic               m_axis_tvalid,
  input  wire                m_axis_tready,
  output logic               m_axis_tlast
);

  if (!hccr_pkg::rq_ok(MULT, SHIFT)) begin : g_bad_rq
    $fatal(1, "requant: MULT=%0d must be in 1..32768 and SHIFT=%0d in 0..46", MULT, SHIFT);
  end

  logic credit, take, last;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(1), .CHANNELS(N)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(), .pix_o(), .c_last_o(), .pix_first_o(), .pix_last_o(),
    .last_o(last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  rq_tail #(
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)
  ) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take),
    .valid_i(take), .acc_i(32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP))),
    .mult_i(16'(MULT)), .shift_i(6'(SHIFT)), .last_i(last),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
