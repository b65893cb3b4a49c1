// Fully connected engine (IR op dense): a folded matrix-vector unit. The HWC-flattened input
// vector of N_IN elements is a 1 x 1 x N_IN image and the layer a 1x1 convolution, so this is
// conv2d (window -> mac_array -> requant) with H = W = KH = KW = 1; its two-row line buffer
// double-buffers the input vector. Cycles per image = (N_OUT/PE) * (N_IN/SIMD).
//
// ROM files as for conv2d with weight [1, 1, N_IN, N_OUT] (the IR's dense weight [in, out]).
`default_nettype none

module dense #(
  parameter int unsigned N_IN = 16,        // input elements (H*W*C of the input tensor)
  parameter int unsigned N_OUT = 4,        // output elements
  parameter int unsigned PE = 1,           // outputs in parallel, divides N_OUT
  parameter int unsigned SIMD = 1,         // inputs in parallel, divides N_IN
  parameter bit          PACK = 1'b0,      // two int8 products per multiplier (mac_array.sv)
  `HCCR_IN_PARAMS,
  `HCCR_OUT_PARAMS,
  parameter bit          RELU = 1'b0,      // fused ReLU
  parameter bit          UNIT_M = 1'b0,    // every M is 1: requantiser without multiplier
  parameter              WEIGHT_FILE = "", // weight ROM image (string)
  parameter              PARAM_FILE = ""   // bias/M/shift ROM image (string)
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  conv2d #(
    .H(1), .W(1), .IC(N_IN), .OC(N_OUT), .KH(1), .KW(1), .SH(1), .SW(1),
    .PT(0), .PB(0), .PL(0), .PR(0), .PE(PE), .SIMD(SIMD), .PACK(PACK),
    .IN_SIGNED(IN_SIGNED), .IN_ZP(IN_ZP), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED),
    .OUT_ZP(OUT_ZP), .RELU(RELU), .UNIT_M(UNIT_M), .FIFO_DEPTH(FIFO_DEPTH),
    .WEIGHT_FILE(WEIGHT_FILE), .PARAM_FILE(PARAM_FILE)
  ) u_conv (
    .clk, .rst_n,
    .s_axis_tdata, .s_axis_tvalid, .s_axis_tready, .s_axis_tlast,
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

endmodule

`default_nettype wire
