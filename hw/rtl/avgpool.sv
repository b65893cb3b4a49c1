// Average pooling engine (DESIGN.md "Integer IR", avgpool), AXI4-Stream in and out, one
// element per beat in HWC order, images back to back, m_axis_tlast on each image's last:
//   acc = sum over the KH x KW window (no padding) of (x - IN_ZP),
//   y   = clamp(OUT_ZP + ((acc * MULT + r) >>> SHIFT))   (scalar M and s, no ReLU)
//
// window (line buffer) -> SIMD-lane running sum -> requantiser (SIMD lanes) -> lane_fifo (FIFO,
// element serialiser), as maxpool.sv with a sum for the max. Each output pixel takes C/SIMD
// groups of KH*KW cycles: cycles per image = (C/SIMD)*KH*KW*HO*WO when the input (H*W*C
// beats) and output (HO*WO*C beats) keep up.
`default_nettype none

module avgpool #(
  `HCCR_HWC_PARAMS,
  parameter int unsigned KH = 2,           // window height
  parameter int unsigned KW = 2,           // window width
  parameter int unsigned SH = 2,           // vertical stride
  parameter int unsigned SW = 2,           // horizontal stride
  parameter int unsigned SIMD = 1,         // channels summed per cycle, divides C
  `HCCR_IN_PARAMS,
  `HCCR_RQ_PARAMS,
  `HCCR_OUT_PARAMS
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  localparam int unsigned CW    = C / SIMD;                 // groups per output pixel
  localparam int unsigned GW    = $clog2(CW + 1);
  localparam int unsigned ACC_W = 9 + $clog2(KH * KW);      // a sum of KH*KW 9-bit values

  if (SIMD < 1 || C % SIMD != 0) begin : g_bad_simd
    $fatal(1, "avgpool: SIMD=%0d must divide C=%0d", SIMD, C);
  end
  `HCCR_CHECK_RQ("avgpool: MULT", MULT, SHIFT)
  if (OUT_W != 8 && OUT_W != 32) begin : g_bad_out
    $fatal(1, "avgpool: OUT_W=%0d must be 8 or 32", OUT_W);
  end

  `HCCR_WINDOW_SIGNALS(GW);

  window #(
    .H(H), .W(W), .C(C), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
    .PT(0), .PB(0), .PL(0), .PR(0), .SIMD(SIMD), .OUTER(CW), .INNER(1),
    .CH_FROM_OUTER(1'b1), .PAD_VALUE(8'd0), .CREDITS(FIFO_DEPTH)
  ) u_window (
    `HCCR_WINDOW_CONNECT
  );

  // Running sum of x - IN_ZP per lane; the group's sums are ready the cycle after its last
  // word.
  logic [SIMD*ACC_W-1:0] sum_q;
  logic                  done_q, img_last_q;

  for (genvar s = 0; s < SIMD; s++) begin : g_lane
    logic signed [8:0] xc;
    assign xc = hccr_pkg::centre(win_data[s*8 +: 8], IN_SIGNED, IN_ZP);
    always_ff @(posedge clk) begin
      if (win_valid) begin
        sum_q[s*ACC_W +: ACC_W] <= (win_first ? '0 : sum_q[s*ACC_W +: ACC_W]) + ACC_W'(xc);
      end
    end
  end

  always_ff @(posedge clk) begin
    img_last_q <= win_img_last;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      done_q <= 1'b0;
    end else begin
      done_q <= win_valid && win_last;
    end
  end

  logic                  rq_valid, rq_last;
  logic [SIMD*OUT_W-1:0] rq_y;

  requantiser #(
    .LANES(SIMD), .ACC_W(ACC_W), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP),
    .RELU(1'b0), .USER_W(1)
  ) u_requantiser (
    .clk, .rst_n,
    .valid_i(done_q), .acc_i(sum_q), .mult_i({SIMD{16'(MULT)}}), .shift_i({SIMD{6'(SHIFT)}}),
    .user_i(img_last_q),
    .valid_o(rq_valid), .y_o(rq_y), .user_o(rq_last)
  );

  lane_fifo #(.LANES(SIMD), .W(OUT_W), .DEPTH(FIFO_DEPTH)) u_out (
    .clk, .rst_n,
    .data_i(rq_y), .valid_i(rq_valid), .last_i(rq_last),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast, .credit_o(credit)
  );

  // tlast in and the group index are not needed.
  logic unused;
  assign unused = ^{s_axis_tlast, win_group};

endmodule

`default_nettype wire
