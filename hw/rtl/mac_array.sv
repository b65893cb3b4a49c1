// PE x SIMD folded multiply-accumulate array.
//
// Each cycle with valid_i, PE p adds sum_s (x[s] - IN_ZP) * w[p][s] to its accumulator
// (restarted by first_i); the cycle with last_i ends the dot product and PE p's total appears
// on acc_o 3 cycles later with valid_o. x is int8 or uint8 (IN_SIGNED); x - IN_ZP always fits
// 9 signed bits, so each product is 9 x 8 bits (one DSP48 or LUT multiplier). No stall: the
// caller sees that nothing downstream needs to stop it (credits, see window.sv).
//
// Pipeline: 1: products  2: SIMD adder tree  3: accumulate (valid_o, acc_o, user_o).
`default_nettype none

module mac_array #(
  parameter int unsigned PE        = 1,     // dot products computed in parallel
  parameter int unsigned SIMD      = 1,     // elements per dot product per cycle
  parameter bit          IN_SIGNED = 1'b1,  // x is int8 (1) or uint8 (0)
  parameter int          IN_ZP     = 0,     // zero point of x, inside x's range
  parameter int unsigned ACC_W     = 32,    // accumulator width, 18..32
  parameter int unsigned USER_W    = 1      // sideband bits delayed with the result
) (
  input  wire                       clk,
  input  wire                       rst_n,     // synchronous, active low

  input  wire                       valid_i,
  input  wire                       first_i,   // first cycle of a dot product
  input  wire                       last_i,    // last cycle of a dot product
  input  wire  [SIMD*8-1:0]         x_i,       // element s at [s*8 +: 8]
  input  wire  [PE*SIMD*8-1:0]      w_i,       // signed weight (p, s) at [(p*SIMD+s)*8 +: 8]
  input  wire  [USER_W-1:0]         user_i,    // sampled with last_i

  output logic                      valid_o,
  output logic [PE*ACC_W-1:0]       acc_o,     // signed total of PE p at [p*ACC_W +: ACC_W]
  output logic [USER_W-1:0]         user_o
);

  localparam int unsigned PROD_W = 17;                              // 9 x 8 bit signed
  localparam int unsigned TREE_W = PROD_W + $clog2(SIMD + 1);       // sum of SIMD products
  localparam int          X_MIN  = IN_SIGNED ? -128 : 0;            // x's range
  localparam int          X_MAX  = IN_SIGNED ? 127 : 255;
  localparam logic signed [9:0] ZP_C = 10'(IN_ZP);

  if (PE < 1 || SIMD < 1) begin : g_bad_fold
    $fatal(1, "mac_array: PE=%0d and SIMD=%0d must be >= 1", PE, SIMD);
  end
  if (ACC_W < 18 || ACC_W > 32 || TREE_W > ACC_W) begin : g_bad_acc
    $fatal(1, "mac_array: ACC_W=%0d must be in 18..32 and hold %0d-bit partial sums", ACC_W,
           TREE_W);
  end
  if (IN_ZP < X_MIN || IN_ZP > X_MAX) begin : g_bad_zp
    $fatal(1, "mac_array: IN_ZP=%0d outside the input range [%0d, %0d]", IN_ZP, X_MIN, X_MAX);
  end

  // Control: stage 1 and 2 flags, stage 3 output.
  logic       v1_q, v2_q, v3_q, first1_q, first2_q, last1_q, last2_q;
  logic [USER_W-1:0] user1_q, user2_q, user3_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      {v1_q, v2_q, v3_q} <= '0;
    end else begin
      v1_q <= valid_i;
      v2_q <= v1_q;
      v3_q <= v2_q && last2_q;
    end
  end

  always_ff @(posedge clk) begin
    first1_q <= first_i;
    last1_q  <= last_i;
    user1_q  <= user_i;
    first2_q <= first1_q;
    last2_q  <= last1_q;
    user2_q  <= user1_q;
    if (v2_q && last2_q) begin
      user3_q <= user2_q;
    end
  end

  assign valid_o = v3_q;
  assign user_o  = user3_q;

  // x - IN_ZP as 9-bit signed, shared by every PE.
  logic signed [8:0] xc [SIMD];
  for (genvar s = 0; s < SIMD; s++) begin : g_center
    logic signed [9:0] x_ext;
    assign x_ext = IN_SIGNED ? 10'($signed(x_i[s*8 +: 8])) : 10'($unsigned(x_i[s*8 +: 8]));
    assign xc[s] = 9'(x_ext - ZP_C);
  end

  for (genvar p = 0; p < PE; p++) begin : g_pe
    logic signed [PROD_W-1:0] prod_q [SIMD];
    logic signed [TREE_W-1:0] tree;
    logic signed [TREE_W-1:0] tree_q;
    logic signed [ACC_W-1:0]  acc_q;

    always_ff @(posedge clk) begin
      for (int s = 0; s < SIMD; s++) begin
        prod_q[s] <= PROD_W'(xc[s]) * PROD_W'($signed(w_i[(p*SIMD+s)*8 +: 8]));
      end
    end

    always_comb begin
      tree = '0;
      for (int s = 0; s < SIMD; s++) begin
        tree = tree + TREE_W'(prod_q[s]);
      end
    end

    always_ff @(posedge clk) begin
      tree_q <= tree;
      if (v2_q) begin
        acc_q <= first2_q ? ACC_W'(tree_q) : acc_q + ACC_W'(tree_q);
      end
    end

    assign acc_o[p*ACC_W +: ACC_W] = acc_q;
  end

endmodule

`default_nettype wire
