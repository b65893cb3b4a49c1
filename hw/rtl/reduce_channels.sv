// Reduction over channels (DESIGN.md "Integer IR", reduce_channels), per pixel:
//   MAX_MODE = 0 (mean): acc = sum_c (x - IN_ZP),  y = clamp(OUT_ZP + ((acc * MULT + r) >>> SHIFT))
//   MAX_MODE = 1 (max):  y = max_c x (the output keeps the input's dtype and zero point, so
//                        OUT_ZP = IN_ZP; it goes through the tail as acc = max - IN_ZP, M = 1)
// Input: H*W*C elements per image, HWC order (channels fastest); output: H*W elements (one
// per pixel), tlast on each image's last. One input element per cycle (cycles per image:
// H*W*C); a pixel's last channel is taken only while a result FIFO slot is free (rq_tail.sv).
`default_nettype none

module reduce_channels #(
  parameter int unsigned H = 4,            // height
  parameter int unsigned W = 4,            // width
  parameter int unsigned C = 2,            // channels reduced
  parameter bit          MAX_MODE = 1'b0,  // 1: max, 0: mean (requantised sum)
  `HCCR_IN_PARAMS,
  `HCCR_RQ_PARAMS,   // mean only (max: MULT = 1, SHIFT = 0)
  `HCCR_OUT_PARAMS   // max: OUT_W = 8, OUT_ZP = IN_ZP
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  `HCCR_CHECK_RQ("reduce_channels: MULT", MULT, SHIFT)
  if (MAX_MODE && (MULT != 1 || SHIFT != 0 || OUT_ZP != IN_ZP || OUT_W != 8)) begin : g_bad_max
    $fatal(1, "reduce_channels: max needs MULT=1 SHIFT=0 OUT_W=8 OUT_ZP=IN_ZP, got %0d %0d %0d %0d",
           MULT, SHIFT, OUT_W, OUT_ZP);
  end

  logic [hccr_pkg::idx_w(C)-1:0] c;
  logic                          credit, first_c, last_c, last, take;
  logic signed [31:0]            x_c, acc_q, acc_d;

  assign s_axis_tready = !last_c || credit;
  assign take = s_axis_tvalid && s_axis_tready;
  assign first_c = c == '0;
  assign x_c = 32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP));

  always_comb begin
    if (MAX_MODE) begin
      acc_d = (first_c || x_c > acc_q) ? x_c : acc_q;  // max of x - IN_ZP is max x - IN_ZP
    end else begin
      acc_d = (first_c ? 32'sd0 : acc_q) + x_c;
    end
  end

  always_ff @(posedge clk) begin
    if (take) begin
      acc_q <= acc_d;
    end
  end

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(last_c), .pix_first_o(),
    .pix_last_o(), .last_o(last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  rq_tail #(`HCCR_OUT_CONNECT) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take && last_c), .last_i(last),
    .acc_i(acc_d), .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
