// PE x SIMD folded multiply-accumulate array.
//
// Each cycle with valid_i, PE p adds sum_s (x[s] - IN_ZP) * w[p][s] to its accumulator
// (restarted by first_i); the cycle with last_i ends the dot product and PE p's total appears
// on acc_o 3 cycles later with valid_o. x is int8 or uint8 (IN_SIGNED); x - IN_ZP always fits
// 9 signed bits, so each product is 9 x 8 bits (one DSP48 or LUT multiplier). No stall: the
// caller sees that nothing downstream needs to stop it (credits, see window.sv).
//
// PACK = 1 computes the products of PE lanes 2q and 2q+1 (which share x[s]) in one multiplier,
// in plain arithmetic: P = xc * (w_hi * 2^K + w_lo), then w_lo's product is P[K-1:0] (signed)
// and w_hi's is P >>> K plus the sign correction P[K-1] (the borrow of a negative low part).
// K = 16 is the only choice for a DSP48E1 (25 x 18): xc = x - IN_ZP lies in [-255, 255] (the
// zero point is inside x's range), so a product lies in [-32640, 32640] and needs K >= 16
// bits; w_hi * 2^K + w_lo must fit the 25-bit port, and for w_hi = -128, w_lo < 0 that holds
// for K <= 16 only (K = 17 gives -2^24 - 128). (DSP48E2's 27-bit port would allow K = 18.)
// The packed weight (25 bits) times xc (9 bits) is one 25 x 18 multiply: half the DSP48s for
// even PE; an odd PE's last lane keeps its own multiplier.
//
// SEGMENTS > 1 lets the adder tree be cut (the layer-sequential engine's short reductions,
// hw/estimate/sequential.py): with cut_i = c the SIMD lanes form 2^c parts of SIMD/2^c
// consecutive lanes, each summed into its own accumulator (part j of PE p at acc_o slot
// p*SEGMENTS + j; slots j >= 2^c hold 0), so one cycle serves 2^c output pixels. The parts are
// the tree's own levels (SEGMENTS block sums added pairwise), so the cut costs one multiplexer
// per slot and SEGMENTS - 1 extra accumulators per PE, no multiplier. cut_i goes with each
// beat and must stay the same within a dot product; c > log2(SEGMENTS) gives zeros.
//
// Pipeline: 1: products  2: SIMD adder tree  3: accumulate (valid_o, acc_o, user_o).
`default_nettype none

module mac_array #(
  parameter int unsigned PE        = 1,     // dot products computed in parallel
  parameter int unsigned SIMD      = 1,     // elements per dot product per cycle
  parameter bit          IN_SIGNED = 1'b1,  // x is int8 (1) or uint8 (0)
  parameter int          IN_ZP     = 0,     // zero point of x, inside x's range
  parameter int unsigned ACC_W     = 32,    // accumulator width, 18..32
  parameter int unsigned USER_W    = 1,     // sideband bits delayed with the result
  parameter bit          PACK      = 1'b0,  // two products per multiplier (PE lane pairs)
  parameter int unsigned SEGMENTS  = 1      // most parts of the cut tree: 2^k dividing SIMD
) (
  input  wire                       clk,
  input  wire                       rst_n,     // synchronous, active low

  input  wire                       valid_i,
  input  wire                       first_i,   // first cycle of a dot product
  input  wire                       last_i,    // last cycle of a dot product
  input  wire  [SIMD*8-1:0]         x_i,       // element s at [s*8 +: 8]
  input  wire  [PE*SIMD*8-1:0]      w_i,       // signed weight (p, s) at [(p*SIMD+s)*8 +: 8]
  input  wire  [USER_W-1:0]         user_i,    // sampled with last_i
  input  wire  [2:0]                cut_i,     // the tree in 2^cut_i parts (0: one sum)

  output logic                      valid_o,
  output logic [PE*SEGMENTS*ACC_W-1:0] acc_o,  // signed total of PE p, part j at
                                               // [(p*SEGMENTS + j)*ACC_W +: ACC_W]
  output logic [USER_W-1:0]         user_o
);

  localparam int unsigned PROD_W = 17;                              // 9 x 8 bit signed
  localparam int unsigned TREE_W = PROD_W + $clog2(SIMD + 1);       // sum of SIMD products
  localparam int unsigned PAIRS  = PACK ? PE / 2 : 0;               // packed lane pairs
  localparam int unsigned K      = 16;                              // low product's bits
  localparam int unsigned WP_W   = 25;                              // packed weight bits
  localparam int unsigned PP_W   = WP_W + 9;                        // packed product bits
  localparam int unsigned PIW    = hccr_pkg::idx_w(PE);             // PE index bits
  localparam int unsigned LOG_SEG = $clog2(SEGMENTS);               // levels below the cut
  localparam int unsigned BLOCK  = SIMD / SEGMENTS;                 // lanes of a block sum
  localparam int unsigned BIW    = hccr_pkg::idx_w(SEGMENTS);       // block index bits

  if (PE < 1 || SIMD < 1) begin : g_bad_fold
    $fatal(1, "mac_array: PE=%0d and SIMD=%0d must be >= 1", PE, SIMD);
  end
  if (ACC_W < 18 || ACC_W > 32 || TREE_W > ACC_W) begin : g_bad_acc
    $fatal(1, "mac_array: ACC_W=%0d must be in 18..32 and hold %0d-bit partial sums", ACC_W,
           TREE_W);
  end
  if (SEGMENTS < 1 || SEGMENTS > 128 || (SEGMENTS & (SEGMENTS - 1)) != 0
      || SIMD % SEGMENTS != 0)
  begin : g_bad_segments
    $fatal(1, "mac_array: SEGMENTS=%0d must be a power of two <= 128 dividing SIMD=%0d", SEGMENTS,
           SIMD);
  end
  if (!hccr_pkg::zp_ok(IN_SIGNED, IN_ZP)) begin : g_bad_zp
    $fatal(1, "mac_array: IN_ZP=%0d outside the input range [%0d, %0d]", IN_ZP,
           hccr_pkg::dtype_min(IN_SIGNED, 8), hccr_pkg::dtype_max(IN_SIGNED, 8));
  end

  // Control: stage 1 and 2 flags, stage 3 output.
  logic       v1_q, v2_q, v3_q, first1_q, first2_q, last1_q, last2_q;
  logic [USER_W-1:0] user1_q, user2_q, user3_q;
  logic [2:0]        cut1_q;

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
    cut1_q   <= cut_i;
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
    assign xc[s] = hccr_pkg::centre(x_i[s*8 +: 8], IN_SIGNED, IN_ZP);
  end

  // Stage 1: registered products of lane (p, s). Every stage is enabled only when it holds
  // data (free in fabric, and it keeps the simulation fast).
  logic signed [PROD_W-1:0] prod [PE][SIMD];

  for (genvar q = 0; q < PAIRS; q++) begin : g_pair
    for (genvar s = 0; s < SIMD; s++) begin : g_lane
      logic signed [WP_W-1:0] wp;    // w[2q+1][s] * 2^K + w[2q][s]
      logic signed [PP_W-1:0] pp_q;  // xc[s] * wp
      assign wp = (WP_W'($signed(w_i[((2*q + 1)*SIMD + s)*8 +: 8])) <<< K)
                  + WP_W'($signed(w_i[(2*q*SIMD + s)*8 +: 8]));
      always_ff @(posedge clk) begin
        if (valid_i) begin
          pp_q <= PP_W'(xc[s]) * PP_W'(wp);
        end
      end
      assign prod[2*q][s]     = PROD_W'($signed(pp_q[K-1:0]));
      assign prod[2*q + 1][s] = PROD_W'($signed(pp_q[PP_W-1:K]) + PROD_W'(pp_q[K-1]));
    end
  end

  for (genvar p = 2 * PAIRS; p < PE; p++) begin : g_single
    for (genvar s = 0; s < SIMD; s++) begin : g_lane
      logic signed [PROD_W-1:0] prod_q;
      always_ff @(posedge clk) begin
        if (valid_i) begin
          prod_q <= PROD_W'(xc[s]) * PROD_W'($signed(w_i[(p*SIMD + s)*8 +: 8]));
        end
      end
      assign prod[p][s] = prod_q;
    end
  end

  // Stage 2: the products of PE p summed per part of the cut tree; stage 3: accumulated.
  function automatic logic signed [TREE_W-1:0] block_sum(input logic [PIW-1:0] p,
                                                         input logic [BIW-1:0] b);
    block_sum = '0;
    for (int s = 0; s < BLOCK; s++) begin
      block_sum = block_sum + TREE_W'(prod[p][int'(b) * BLOCK + s]);
    end
  endfunction

  for (genvar p = 0; p < PE; p++) begin : g_pe
    // Level k: SEGMENTS >> k sums of BLOCK * 2^k consecutive lanes (level 0: the blocks).
    for (genvar k = 0; k <= LOG_SEG; k++) begin : g_level
      logic signed [TREE_W-1:0] sum [SEGMENTS >> k];
      for (genvar i = 0; i < (SEGMENTS >> k); i++) begin : g_sum
        if (k == 0) begin : g_block
          assign sum[i] = block_sum(PIW'(p), BIW'(i));
        end else begin : g_pair
          assign sum[i] = g_level[k - 1].sum[2 * i] + g_level[k - 1].sum[2 * i + 1];
        end
      end
    end

    for (genvar j = 0; j < SEGMENTS; j++) begin : g_part
      logic signed [TREE_W-1:0] part, tree_q;
      logic signed [ACC_W-1:0]  acc_q;

      if (SEGMENTS == 1) begin : g_whole  // no multiplexer: synthesis keeps the plain tree
        logic unused;
        assign unused = ^cut1_q;
        assign part = g_level[0].sum[0];
      end else begin : g_cut
        // 2^c parts are level LOG_SEG - c; slots past the parts (and cuts past LOG_SEG) read 0
        logic signed [TREE_W-1:0] cuts [8];
        for (genvar c = 0; c < 8; c++) begin : g_level_of_cut
          if (c <= LOG_SEG && j < (1 << c)) begin : g_part_of_level
            assign cuts[c] = g_level[LOG_SEG - c].sum[j];
          end else begin : g_none
            assign cuts[c] = '0;
          end
        end
        assign part = cuts[cut1_q];
      end

      always_ff @(posedge clk) begin
        if (v1_q) begin
          tree_q <= part;
        end
        if (v2_q) begin
          acc_q <= (first2_q ? '0 : acc_q) + ACC_W'(tree_q);
        end
      end

      assign acc_o[(p*SEGMENTS + j)*ACC_W +: ACC_W] = acc_q;
    end
  end

endmodule

`default_nettype wire
