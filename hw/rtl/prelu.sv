// PReLU (DESIGN.md "Integer IR", prelu): per element of channel c,
//   acc = (x - IN_ZP) * (x >= IN_ZP ? M_POS : M_NEG[c]),
//   y   = clamp(OUT_ZP + ((acc + r) >>> SHIFT))
// computed as the requantiser of x - IN_ZP with M = M_POS or M_NEG[c] (the same integers).
// Input and output: H*W*C elements per image, HWC order (channels fastest), images back to
// back; tlast on each image's last element. One element per cycle (cycles per image: H*W*C),
// taken while a result FIFO slot is free (rq_tail.sv credits).
//
// NEG_FILE ($readmemh): C words of 16 bits, word c = M_NEG[c] (1..32768).
`default_nettype none

module prelu #(
  `HCCR_HWC_PARAMS,
  `HCCR_IN_PARAMS,
  `HCCR_OUT_PARAMS,
  parameter int unsigned M_POS = 1,        // multiplier where x >= IN_ZP, 1..32768
  parameter int unsigned SHIFT = 0,        // shift s, 0..46
  parameter              NEG_FILE = ""     // M_NEG ROM image (string; "" leaves zeros)
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  `HCCR_CHECK_RQ("prelu: M_POS", M_POS, SHIFT)

  (* rom_style = "block" *) logic [15:0] neg_rom [C];

  initial begin
    if (NEG_FILE != "") $readmemh(NEG_FILE, neg_rom);
  end

  logic [hccr_pkg::idx_w(C)-1:0] c;
  logic                          credit, take, last;
  logic signed [31:0]            x_c, x_q;
  logic [15:0]                   neg_q;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;
  assign x_c = 32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP));

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(), .pix_first_o(),
    .pix_last_o(), .last_o(last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  always_ff @(posedge clk) begin
    neg_q <= neg_rom[c];
    x_q <= x_c;
  end

  rq_tail #(`HCCR_OUT_CONNECT, .DELAY(1)) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take), .last_i(last),
    .acc_i(x_q), .mult_i(x_q >= 0 ? 16'(M_POS) : neg_q), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
