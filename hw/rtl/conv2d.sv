// Convolution engine (IR op conv2d, groups = 1), AXI4-Stream in and out, one element per beat
// in HWC order (channels fastest) on both sides; images back to back, m_axis_tlast on each
// image's last element.
//
//   acc[oc] = bias[oc] + sum_{ky,kx,c} (x[iy,ix,c] - IN_ZP) * w[ky,kx,c,oc]   (pads hold IN_ZP)
//   y       = requant(acc, M[oc], s[oc]) into the output dtype, ReLU fused
//
// window (line buffer) -> weight ROM -> mac_array (PE x SIMD) -> bias/M/s ROM -> requantiser
// -> lane_fifo (FIFO, element serialiser). Each output pixel takes (OC/PE) groups of KH*KW*IC/SIMD cycles:
// cycles per image = (OC/PE) * (IC*KH*KW/SIMD) * HO * WO when the input (H*W*IC beats) and the
// output (HO*WO*OC beats) keep up.
//
// ROM files ($readmemh, one hex word per line):
//   WEIGHT_FILE: (OC/PE) * KH*KW*(IC/SIMD) words of PE*SIMD*8 bits; word nf*KH*KW*IC/SIMD +
//     (ky*KW + kx)*IC/SIMD + cw holds w[ky][kx][cw*SIMD + s][nf*PE + p] at bit (p*SIMD + s)*8.
//   PARAM_FILE: OC/PE words of PE*54 bits; lane p = {shift[5:0], M[15:0], bias[31:0]} of
//     channel nf*PE + p at bit p*54.
`default_nettype none

module conv2d #(
  parameter int unsigned H = 4,            // input height
  parameter int unsigned W = 4,            // input width
  parameter int unsigned IC = 1,           // input channels
  parameter int unsigned OC = 1,           // output channels
  `HCCR_WINDOW_PARAMS,
  parameter int unsigned PE = 1,           // output channels in parallel, divides OC
  parameter int unsigned SIMD = 1,         // input channels in parallel, divides IC
  parameter bit          PACK = 1'b0,      // two int8 products per multiplier (mac_array.sv)
  `HCCR_IN_PARAMS,
  `HCCR_OUT_PARAMS,
  parameter bit          RELU = 1'b0,      // fused ReLU
  parameter bit          UNIT_M = 1'b0,    // every M is 1: requantiser without multiplier
  parameter              WEIGHT_FILE = "", // weight ROM image (string; "" leaves zeros)
  parameter              PARAM_FILE = ""   // bias/M/shift ROM image (string; "" leaves zeros)
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  localparam int unsigned NF    = OC / PE;                  // groups (neuron folds) per pixel
  localparam int unsigned CW    = IC / SIMD;                // words per input pixel
  localparam int unsigned SF    = KH * KW * CW;             // words per group (synapse fold)
  localparam int unsigned WDEP  = NF * SF;                  // weight ROM words
  localparam int unsigned WAW   = hccr_pkg::idx_w(WDEP);
  localparam int unsigned GW    = $clog2(NF + 1);             // group index bits
  localparam int unsigned PAW   = hccr_pkg::idx_w(NF);      // parameter ROM address bits
  localparam int unsigned PW    = 54;                       // bias 32 + M 16 + shift 6

  if (PE < 1 || OC % PE != 0) begin : g_bad_pe
    $fatal(1, "conv2d: PE=%0d must divide OC=%0d", PE, OC);
  end
  if (SIMD < 1 || IC % SIMD != 0) begin : g_bad_simd
    $fatal(1, "conv2d: SIMD=%0d must divide IC=%0d", SIMD, IC);
  end
  if (OUT_W != 8 && OUT_W != 32) begin : g_bad_out
    $fatal(1, "conv2d: OUT_W=%0d must be 8 or 32", OUT_W);
  end

  // ---------------------------------------------------------------- window
  `HCCR_WINDOW_SIGNALS(GW);

  window #(
    .H(H), .W(W), .C(IC), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
    .PT(PT), .PB(PB), .PL(PL), .PR(PR), .SIMD(SIMD), .OUTER(NF), .INNER(CW),
    .CH_FROM_OUTER(1'b0), .PAD_VALUE(8'(IN_ZP)), .CREDITS(FIFO_DEPTH)
  ) u_window (
    `HCCR_WINDOW_CONNECT
  );

  // ---------------------------------------------------------------- weight ROM
  (* rom_style = "block" *) logic [PE*SIMD*8-1:0] wrom [WDEP];
  (* rom_style = "block" *) logic [PE*PW-1:0]     prom [NF];

  initial begin
    if (WEIGHT_FILE != "") $readmemh(WEIGHT_FILE, wrom);
    if (PARAM_FILE != "") $readmemh(PARAM_FILE, prom);
  end

  logic [WAW-1:0]       wa_q;          // weight word of this window word
  logic [PE*SIMD*8-1:0] w_q;
  logic [SIMD*8-1:0]    x_q;
  logic                 v_q, first_q, last_q;
  logic [GW:0]          user_q;        // {image last, group}

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wa_q <= '0;
      v_q  <= 1'b0;
    end else begin
      v_q <= win_valid;
      if (win_valid) wa_q <= wa_q == WAW'(WDEP - 1) ? '0 : wa_q + 1'b1;
    end
  end

  always_ff @(posedge clk) begin  // registers load only with data (keeps simulation fast)
    if (win_valid) begin
      w_q     <= wrom[wa_q];
      x_q     <= win_data;
      first_q <= win_first;
      last_q  <= win_last;
      user_q  <= {win_img_last, win_group};
    end
  end

  // ---------------------------------------------------------------- MAC array
  logic             mac_valid;
  logic [PE*32-1:0] mac_acc;
  logic [GW:0]      mac_user;

  mac_array #(
    .PE(PE), .SIMD(SIMD), .IN_SIGNED(IN_SIGNED), .IN_ZP(IN_ZP), .ACC_W(32), .USER_W(GW + 1),
    .PACK(PACK)
  ) u_mac (
    .clk, .rst_n,
    .valid_i(v_q), .first_i(first_q), .last_i(last_q), .x_i(x_q), .w_i(w_q), .user_i(user_q),
    .cut_i(3'd0), .valid_o(mac_valid), .acc_o(mac_acc), .user_o(mac_user)
  );

  // ---------------------------------------------------------------- bias, M, shift
  logic             p1_valid_q, p2_valid_q, p1_img_last_q, p2_img_last_q;
  logic [PE*32-1:0] p1_acc_q, p2_acc_q;
  logic [PE*PW-1:0] prm_q;
  logic [PE*16-1:0] p2_mult_q;
  logic [PE*6-1:0]  p2_shift_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      p1_valid_q <= 1'b0;
      p2_valid_q <= 1'b0;
    end else begin
      p1_valid_q <= mac_valid;
      p2_valid_q <= p1_valid_q;
    end
  end

  always_ff @(posedge clk) begin
    if (mac_valid) begin
      prm_q         <= prom[PAW'(mac_user[GW-1:0])];
      p1_acc_q      <= mac_acc;
      p1_img_last_q <= mac_user[GW];
    end
    if (p1_valid_q) begin
      p2_img_last_q <= p1_img_last_q;
      for (int p = 0; p < PE; p++) begin
        p2_acc_q[p*32 +: 32] <= p1_acc_q[p*32 +: 32] + prm_q[p*PW +: 32];
        p2_mult_q[p*16 +: 16] <= prm_q[p*PW + 32 +: 16];
        p2_shift_q[p*6 +: 6]  <= prm_q[p*PW + 48 +: 6];
      end
    end
  end

  // ---------------------------------------------------------------- requantiser, FIFO
  logic                rq_valid, rq_img_last;
  logic [PE*OUT_W-1:0] rq_y;

  requantiser #(
    .LANES(PE), .ACC_W(32), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP),
    .RELU(RELU), .USER_W(1), .UNIT_M(UNIT_M)
  ) u_requantiser (
    .clk, .rst_n,
    .valid_i(p2_valid_q), .acc_i(p2_acc_q), .mult_i(p2_mult_q), .shift_i(p2_shift_q),
    .user_i(p2_img_last_q),
    .valid_o(rq_valid), .y_o(rq_y), .user_o(rq_img_last)
  );

  lane_fifo #(.LANES(PE), .W(OUT_W), .DEPTH(FIFO_DEPTH)) u_out (
    .clk, .rst_n,
    .data_i(rq_y), .valid_i(rq_valid), .last_i(rq_img_last),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast, .credit_o(credit)
  );

  // tlast in is not needed (an image is H*W*IC beats).
  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
