// Requantisation engine (DESIGN.md "Integer IR", the op requant; `requant.sv` is the
// requantiser inside every engine): per element
//   y = clamp(OUT_ZP + (((x - IN_ZP) * MULT + r) >>> SHIFT))
// into another scale, zero point or dtype (the exporter puts one before a concat input whose
// quantisation differs from the output's). Input and output: N elements per image, images back
// to back; tlast on each image's last. One element per cycle (cycles per image: N), taken
// while a result FIFO slot is free (rq_tail.sv credits).
`default_nettype none

module requant_op #(
  parameter int unsigned N = 16,           // elements per image (H*W*C)
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
  input  wire                s_axis_tlast,   // unused: an image is N beats

  output logic [OUT_W-1:0]   m_axis_tdata,
  output logic               m_axis_tvalid,
  input  wire                m_axis_tready,
  output logic               m_axis_tlast
);

  localparam int unsigned NW = N > 1 ? $clog2(N) : 1;  // element index bits

  if (N < 1) begin : g_bad_n
    $fatal(1, "requant_op: N=%0d must be >= 1", N);
  end
  if (MULT < 1 || MULT > 32768 || SHIFT > 46) begin : g_bad_rq
    $fatal(1, "requant_op: MULT=%0d must be in 1..32768 and SHIFT=%0d in 0..46", MULT, SHIFT);
  end

  logic [NW-1:0]      n_q;
  logic               credit, take;
  logic signed [31:0] x_c;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;
  assign x_c = (IN_SIGNED ? 32'($signed(s_axis_tdata)) : 32'($signed({1'b0, s_axis_tdata})))
               - 32'(IN_ZP);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      n_q <= '0;
    end else if (take) begin
      n_q <= n_q == NW'(N - 1) ? '0 : n_q + 1'b1;
    end
  end

  rq_tail #(
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)
  ) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take),
    .valid_i(take), .acc_i(x_c), .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .last_i(n_q == NW'(N - 1)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
