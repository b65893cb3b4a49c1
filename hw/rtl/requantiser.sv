// Requantiser (DESIGN.md, "Integer IR"): for each of LANES accumulators,
//   y = clamp(OUT_ZP + ((acc * M + r) >>> s), lo, hi),   r = s > 0 ? 2^(s-1) : 0,
// with M in [1, 2^15] and s in [0, 46] per lane, [lo, hi] the output dtype's range and lo
// raised to OUT_ZP when the ReLU is fused. Bit-exact with quant.golden.requantize + saturate.
//
// UNIT_M = 1 is for networks whose every M is 1 (the power-of-two scheme, DESIGN.md): stage 1
// passes acc on and no multiplier (no DSP48) is built; mult_i is then ignored.
//
// The rounding shift is done as floor((acc*M + 2^(s-1)) / 2^s) = (((acc*M) >>> (s-1)) + 1) >>> 1
// for s > 0 (nested floors): a shift, then an increment, no 2^(s-1) decoder and no adder wider
// than the product.
//
// Pipeline: 4 cycles, no stall (valid_i -> valid_o, user_i -> user_o alongside):
//   1: acc * M    2: >>> (s - 1)    3: + 1, >>> 1 (s > 0)    4: + OUT_ZP, clamp.
`default_nettype none

module requantiser #(
  parameter int unsigned LANES      = 1,   // values per cycle, each with its own M and s
  parameter int unsigned ACC_W      = 32,  // accumulator width (signed), 2..32
  parameter int unsigned OUT_W      = 8,   // output width: 8 for int8/uint8, 32 for int32
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype is signed
  parameter int          OUT_ZP     = 0,   // output zero point, inside the output range
  parameter bit          RELU       = 1'b0,  // fused ReLU: clamp low at OUT_ZP
  parameter int unsigned USER_W     = 1,   // sideband bits delayed with the data
  parameter bit          UNIT_M     = 1'b0  // every M is 1: no multiplier, mult_i unused
) (
  input  wire                      clk,
  input  wire                      rst_n,     // synchronous, active low

  input  wire                      valid_i,
  input  wire  [LANES*ACC_W-1:0]   acc_i,     // signed accumulators, lane l at [l*ACC_W +: ACC_W]
  input  wire  [LANES*16-1:0]      mult_i,    // unsigned M per lane, 1..32768 (UNIT_M: unused)
  input  wire  [LANES*6-1:0]       shift_i,   // s per lane, 0..46
  input  wire  [USER_W-1:0]        user_i,

  output logic                     valid_o,
  output logic [LANES*OUT_W-1:0]   y_o,       // lane l at [l*OUT_W +: OUT_W]
  output logic [USER_W-1:0]        user_o
);

  localparam int unsigned LATENCY = 4;                          // cycles from valid_i to valid_o
  localparam int unsigned PROD_W  = UNIT_M ? ACC_W : ACC_W + 17;  // acc * {0, M}
  localparam int unsigned SUM_W   = (PROD_W > OUT_W ? PROD_W : OUT_W) + 1;  // + 1 after the
                                                                    // shift; holds the limits
  localparam longint      DT_MIN  = hccr_pkg::dtype_min(OUT_SIGNED, OUT_W);
  localparam longint      DT_MAX  = hccr_pkg::dtype_max(OUT_SIGNED, OUT_W);
  localparam longint      LO      = RELU ? longint'(OUT_ZP) : DT_MIN;
  localparam logic signed [SUM_W:0] LO_C = (SUM_W + 1)'(LO);
  localparam logic signed [SUM_W:0] HI_C = (SUM_W + 1)'(DT_MAX);
  localparam logic signed [SUM_W:0] ZP_C = (SUM_W + 1)'(longint'(OUT_ZP));

  if (LANES < 1) begin : g_bad_lanes
    $fatal(1, "requantiser: LANES=%0d must be >= 1", LANES);
  end
  if (ACC_W < 2 || ACC_W > 32) begin : g_bad_acc
    $fatal(1, "requantiser: ACC_W=%0d must be in 2..32", ACC_W);
  end
  if (OUT_W < 2 || OUT_W > 32 || (OUT_W == 32 && !OUT_SIGNED)) begin : g_bad_out
    $fatal(1, "requantiser: OUT_W=%0d OUT_SIGNED=%0d is no int/uint dtype up to int32", OUT_W,
           OUT_SIGNED);
  end
  if (longint'(OUT_ZP) < DT_MIN || longint'(OUT_ZP) > DT_MAX) begin : g_bad_zp
    $fatal(1, "requantiser: OUT_ZP=%0d outside the output range [%0d, %0d]", OUT_ZP, DT_MIN,
           DT_MAX);
  end

  logic [LATENCY-1:0]            valid_q;
  logic [USER_W-1:0]             user_q [LATENCY];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      valid_q <= '0;
    end else begin
      valid_q <= {valid_q[LATENCY-2:0], valid_i};
    end
  end

  always_ff @(posedge clk) begin
    user_q[0] <= user_i;
    for (int i = 1; i < LATENCY; i++) begin
      user_q[i] <= user_q[i-1];
    end
  end

  if (UNIT_M) begin : g_unit_m
    logic unused;
    assign unused = ^mult_i;
  end

  assign valid_o = valid_q[LATENCY-1];
  assign user_o  = user_q[LATENCY-1];

  for (genvar l = 0; l < LANES; l++) begin : g_lane
    logic signed [PROD_W-1:0] prod_q;
    logic signed [PROD_W-1:0] part_q;     // (acc * M) >>> (s - 1), or acc * M for s = 0
    logic signed [SUM_W-1:0]  shifted_q;
    logic signed [SUM_W:0]    biased;
    logic [5:0]               s1_q;        // s - 1 (s > 0)
    logic                     z1_q, z2_q;  // s = 0: no shift, no rounding
    logic [OUT_W-1:0]         y_q;

    // Each stage loads only when it takes a value (free in fabric; keeps simulation fast).
    always_ff @(posedge clk) begin
      // 1: product (M is unsigned: a 0 sign bit makes it a positive signed operand)
      if (valid_i) begin
        prod_q <= UNIT_M ? PROD_W'($signed(acc_i[l*ACC_W +: ACC_W]))
                         : PROD_W'($signed(acc_i[l*ACC_W +: ACC_W]))
                           * PROD_W'($signed({1'b0, mult_i[l*16 +: 16]}));
        s1_q   <= shift_i[l*6 +: 6] - 6'd1;
        z1_q   <= shift_i[l*6 +: 6] == 6'd0;
      end
      // 2: all but the last bit of the shift (floor)
      if (valid_q[0]) begin
        part_q <= z1_q ? prod_q : prod_q >>> s1_q;
        z2_q   <= z1_q;
      end
      // 3: round half up at the last bit
      if (valid_q[1]) begin
        shifted_q <= z2_q ? SUM_W'(part_q) : (SUM_W'(part_q) + SUM_W'(1)) >>> 1;
      end
      // 4: zero point and saturation
      if (valid_q[2]) begin
        if (biased < LO_C) begin
          y_q <= OUT_W'(LO_C);
        end else if (biased > HI_C) begin
          y_q <= OUT_W'(HI_C);
        end else begin
          y_q <= OUT_W'(biased);
        end
      end
    end

    assign biased = (SUM_W + 1)'(shifted_q) + ZP_C;
    assign y_o[l*OUT_W +: OUT_W] = y_q;
  end

endmodule

`default_nettype wire
