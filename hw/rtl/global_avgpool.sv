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
  parameter int unsigned H = 4,            // input height
  parameter int unsigned W = 4,            // input width
  parameter int unsigned C = 1,            // channels
  parameter bit          IN_SIGNED = 1'b1, // input dtype int8 (1) or uint8 (0)
  parameter int          IN_ZP = 0,        // input zero point
  parameter int unsigned OUT_W = 8,        // output element width: 8 or 32 (int32)
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype signed
  parameter int          OUT_ZP = 0,       // output zero point
  parameter int unsigned MULT = 1,         // requantiser multiplier M, 1..32768
  parameter int unsigned SHIFT = 0,        // requantiser shift s, 0..46
  parameter int unsigned FIFO_DEPTH = 16   // result FIFO entries, a power of two >= 2
) (
  input  wire                clk,
  input  wire                rst_n,          // synchronous, active low

  input  wire  [7:0]         s_axis_tdata,
  input  wire                s_axis_tvalid,
  output logic               s_axis_tready,
  input  wire                s_axis_tlast,   // unused: an image is H*W*C beats

  output logic [OUT_W-1:0]   m_axis_tdata,
  output logic               m_axis_tvalid,
  input  wire                m_axis_tready,
  output logic               m_axis_tlast
);

  localparam int unsigned NPIX = H * W;                        // pixels per image
  localparam int unsigned CW   = C > 1 ? $clog2(C) : 1;        // channel index bits
  localparam int unsigned PW   = NPIX > 1 ? $clog2(NPIX) : 1;  // pixel index bits

  if (H < 1 || W < 1 || C < 1) begin : g_bad_shape
    $fatal(1, "global_avgpool: H=%0d W=%0d C=%0d must be >= 1", H, W, C);
  end
  if (MULT < 1 || MULT > 32768 || SHIFT > 46) begin : g_bad_rq
    $fatal(1, "global_avgpool: MULT=%0d must be in 1..32768 and SHIFT=%0d in 0..46", MULT,
           SHIFT);
  end

  logic [CW-1:0]        c_q;
  logic [PW-1:0]        pix_q;
  logic                 credit, last_pix, take;
  logic signed [31:0]   acc_ram [C];
  logic signed [31:0]   x_c, sum;

  assign last_pix = pix_q == PW'(NPIX - 1);
  assign s_axis_tready = !last_pix || credit;
  assign take = s_axis_tvalid && s_axis_tready;
  assign x_c = (IN_SIGNED ? 32'($signed(s_axis_tdata)) : 32'($signed({1'b0, s_axis_tdata})))
               - 32'(IN_ZP);
  assign sum = (pix_q == '0 ? 32'sd0 : acc_ram[c_q]) + x_c;

  always_ff @(posedge clk) begin
    if (take) begin
      acc_ram[c_q] <= sum;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      c_q <= '0;
      pix_q <= '0;
    end else if (take) begin
      c_q <= c_q == CW'(C - 1) ? '0 : c_q + 1'b1;
      if (c_q == CW'(C - 1)) begin
        pix_q <= last_pix ? '0 : pix_q + 1'b1;
      end
    end
  end

  // ---- the tail: requantiser (scalar M and s) and result FIFO
  rq_tail #(
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)
  ) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take && last_pix),
    .valid_i(take && last_pix), .acc_i(sum), .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .last_i(c_q == CW'(C - 1)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
