// Max pooling engine (IR op maxpool), AXI4-Stream in and out, one element per beat in HWC
// order, images back to back, m_axis_tlast on each image's last element. Padded taps read the
// dtype's minimum, so they never win (every window holds a real element).
//
// window (line buffer) -> SIMD-lane running max -> lane_fifo (FIFO, element serialiser). Each output
// pixel takes C/SIMD groups of KH*KW cycles: cycles per image = (C/SIMD)*KH*KW*HO*WO when the
// input (H*W*C beats) and output (HO*WO*C beats) keep up.
`default_nettype none

module maxpool #(
  `HCCR_HWC_PARAMS,
  parameter int unsigned KH = 2,           // window height
  parameter int unsigned KW = 2,           // window width
  parameter int unsigned SH = 2,           // vertical stride
  parameter int unsigned SW = 2,           // horizontal stride
  parameter int unsigned PT = 0,           // padding above, < KH
  parameter int unsigned PB = 0,           // padding below, < KH
  parameter int unsigned PL = 0,           // padding left, < KW
  parameter int unsigned PR = 0,           // padding right, < KW
  parameter int unsigned SIMD = 1,         // channels compared per cycle, divides C
  parameter bit          IN_SIGNED = 1'b1, // dtype int8 (1) or uint8 (0)
  parameter int          IN_ZP = 0,        // zero point (kept by the output; unused here)
  parameter int unsigned FIFO_DEPTH = 16   // result FIFO entries (SIMD values each), power of 2
) (
  `HCCR_ENGINE_PORTS(8)
);

  localparam int unsigned CW = C / SIMD;              // groups per output pixel
  localparam int unsigned GW = $clog2(CW + 1);
  localparam logic [7:0]  LOWEST = 8'(hccr_pkg::dtype_min(IN_SIGNED, 8));

  if (SIMD < 1 || C % SIMD != 0) begin : g_bad_simd
    $fatal(1, "maxpool: SIMD=%0d must divide C=%0d", SIMD, C);
  end
  if (!hccr_pkg::zp_ok(IN_SIGNED, IN_ZP)) begin : g_bad_zp
    $fatal(1, "maxpool: IN_ZP=%0d outside the dtype's range", IN_ZP);
  end

  `HCCR_WINDOW_SIGNALS(GW);

  window #(
    .H(H), .W(W), .C(C), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
    .PT(PT), .PB(PB), .PL(PL), .PR(PR), .SIMD(SIMD), .OUTER(CW), .INNER(1),
    .CH_FROM_OUTER(1'b1), .PAD_VALUE(LOWEST), .CREDITS(FIFO_DEPTH)
  ) u_window (
    `HCCR_WINDOW_CONNECT
  );

  // Running max per lane; the group's result is ready the cycle after its last word.
  logic [SIMD*8-1:0] max_q;
  logic              done_q, img_last_q;

  always_ff @(posedge clk) begin
    if (win_valid) begin
      for (int s = 0; s < SIMD; s++) begin
        if (win_first || (IN_SIGNED ? $signed(win_data[s*8 +: 8]) > $signed(max_q[s*8 +: 8])
                                    : win_data[s*8 +: 8] > max_q[s*8 +: 8])) begin
          max_q[s*8 +: 8] <= win_data[s*8 +: 8];
        end
      end
    end
    img_last_q <= win_img_last;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      done_q <= 1'b0;
    end else begin
      done_q <= win_valid && win_last;
    end
  end

  lane_fifo #(.LANES(SIMD), .W(8), .DEPTH(FIFO_DEPTH)) u_out (
    .clk, .rst_n,
    .data_i(max_q), .valid_i(done_q), .last_i(img_last_q),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast, .credit_o(credit)
  );

  // tlast in and the group index are not needed.
  logic unused;
  assign unused = ^{s_axis_tlast, win_group};

endmodule

`default_nettype wire
