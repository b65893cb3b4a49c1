// Elementwise add of two streams (DESIGN.md "Integer IR", add):
//   acc = (a - A_ZP) * M1 + (b - B_ZP) * M2,   y = clamp(OUT_ZP + ((acc + r) >>> SHIFT))
// with r = 2^(SHIFT-1) (0 when SHIFT = 0): the requantiser with M = 1.
// Inputs: two streams of N elements per image (same shape, HWC order), joined element by
// element; output: N elements per image, tlast on the last. An element pair is taken only
// when both are valid and a result FIFO slot is free (rq_tail.sv credits), so nothing stalls
// after the join. Cycles per image: N.
`default_nettype none

module add #(
  parameter int unsigned N = 16,           // elements per image (H*W*C)
  parameter bit          A_SIGNED = 1'b1,  // first input int8 (1) or uint8 (0)
  parameter int          A_ZP = 0,         // first input zero point
  parameter bit          B_SIGNED = 1'b1,  // second input int8 (1) or uint8 (0)
  parameter int          B_ZP = 0,         // second input zero point
  parameter int unsigned M1 = 1,           // multiplier of the first input, 1..32768
  parameter int unsigned M2 = 1,           // multiplier of the second input, 1..32768
  parameter int unsigned SHIFT = 0,        // shift s, 0..46
  `HCCR_OUT_PARAMS
) (
  `HCCR_CLOCK_PORTS,
  `HCCR_AXIS_IN(s0_axis, 8),       // first input (tlast unused)
  `HCCR_AXIS_IN(s1_axis, 8),       // second input (tlast unused)
  `HCCR_AXIS_OUT(m_axis, OUT_W)
);

  if (!hccr_pkg::rq_ok(M1, SHIFT) || !hccr_pkg::rq_ok(M2, SHIFT)) begin : g_bad_rq
    $fatal(1, "add: M1=%0d M2=%0d must be in 1..32768 and SHIFT=%0d in 0..46", M1, M2, SHIFT);
  end

  logic               credit, take;
  logic signed [31:0] acc;

  assign take = s0_axis_tvalid && s1_axis_tvalid && credit;
  assign s0_axis_tready = take;
  assign s1_axis_tready = take;
  assign acc = 32'(hccr_pkg::centre(s0_axis_tdata, A_SIGNED, A_ZP)) * 32'(M1)
             + 32'(hccr_pkg::centre(s1_axis_tdata, B_SIGNED, B_ZP)) * 32'(M2);

  // ---- the requantiser with M = 1 (the multipliers are applied above)
  rq_tail #(`HCCR_OUT_CONNECT, .RESULTS(N)) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take), .last_i(1'b0),
    .acc_i(acc), .mult_i(16'd1), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = ^{s0_axis_tlast, s1_axis_tlast};

endmodule

`default_nettype wire
