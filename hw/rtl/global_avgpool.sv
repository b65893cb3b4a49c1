// Global average pool (DESIGN.md "Integer IR", global_avgpool): per channel c,
//   acc[c] = sum over the H*W pixels of (x - IN_ZP),   y[c] = requant(acc[c], MULT, SHIFT)
// into the output dtype (no ReLU). Input: H*W*C elements per image, HWC order (channels
// fastest), images back to back; output: C elements per image, tlast on the last.
//
// One input element per cycle: the C accumulators live in a RAM read and written at the
// element's channel; the last pixel's sums go straight into the tail (rq_tail.sv: requantiser
// and FIFO). An element of the last pixel is accepted only while a FIFO slot is free for its
// result (credits), so nothing stalls after the input. Cycles per image: H*W*C.
`default_nettype none

module global_avgpool #(
  `HCCR_HWC_PARAMS,
  `HCCR_IN_PARAMS,
  `HCCR_RQ_PARAMS,
  `HCCR_OUT_PARAMS
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  `HCCR_CHECK_RQ("global_avgpool: MULT", MULT, SHIFT)

  logic [hccr_pkg::idx_w(C)-1:0] c;
  logic                          credit, first_pix, last_pix, last_c, take;
  logic signed [31:0]            acc_ram [C];
  logic signed [31:0]            sum;

  assign s_axis_tready = !last_pix || credit;
  assign take = s_axis_tvalid && s_axis_tready;
  assign sum = (first_pix ? 32'sd0 : acc_ram[c])
               + 32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP));

  always_ff @(posedge clk) begin
    if (take) begin
      acc_ram[c] <= sum;
    end
  end

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(last_c), .pix_first_o(first_pix),
    .pix_last_o(last_pix), .last_o()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // ---- the tail: requantiser (scalar M and s) and result FIFO
  rq_tail #(`HCCR_OUT_CONNECT) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take && last_pix), .last_i(last_c),
    .acc_i(sum), .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
