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
  `HCCR_IN_PARAMS,
  `HCCR_RQ_PARAMS,
  `HCCR_OUT_PARAMS
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  `HCCR_CHECK_RQ("requant: MULT", MULT, SHIFT)

  logic credit, take;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;

  rq_tail #(`HCCR_OUT_CONNECT, .RESULTS(N)) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take), .last_i(1'b0),
    .acc_i(32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP))),
    .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
