// Result FIFO of an engine that computes LANES values at once (conv2d's PE, the pools' SIMD)
// and streams them one element per beat, lane 0 first: fifo.sv, then a lane serialiser.
//
// There is no s_axis_tready: the engine issues a word only with a credit (window.sv counts
// them), and credit_o returns one each time a word has left, so a word always finds room.
`default_nettype none

module lane_fifo #(
  parameter int unsigned LANES = 1,   // elements per word
  parameter int unsigned W     = 8,   // bits per element
  parameter int unsigned DEPTH = 16   // words, a power of two >= 2 (the engine's credits)
) (
  input  wire               clk,
  input  wire               rst_n,          // synchronous, active low

  input  wire  [LANES*W-1:0] data_i,        // lane l at [l*W +: W]
  input  wire               valid_i,
  input  wire               last_i,         // the image's last word

  output logic [W-1:0]      m_axis_tdata,
  output logic              m_axis_tvalid,
  input  wire               m_axis_tready,
  output logic              m_axis_tlast,

  output logic              credit_o        // a word left the FIFO this cycle
);

  localparam int unsigned LW = $clog2(LANES + 1);

  logic [LANES*W-1:0] word;
  logic               word_valid, word_ready, word_last, in_ready;
  logic [LW-1:0]      lane_q;

  fifo #(.DATA_W(LANES * W), .DEPTH(DEPTH)) u_fifo (
    .clk, .rst_n,
    .s_axis_tdata(data_i), .s_axis_tvalid(valid_i), .s_axis_tready(in_ready),
    .s_axis_tlast(last_i),
    .m_axis_tdata(word), .m_axis_tvalid(word_valid), .m_axis_tready(word_ready),
    .m_axis_tlast(word_last)
  );

  assign m_axis_tdata  = word[lane_q*W +: W];
  assign m_axis_tvalid = word_valid;
  assign m_axis_tlast  = word_last && lane_q == LW'(LANES - 1);
  assign word_ready    = m_axis_tready && lane_q == LW'(LANES - 1);
  assign credit_o      = word_valid && word_ready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      lane_q <= '0;
    end else if (m_axis_tvalid && m_axis_tready) begin
      lane_q <= lane_q == LW'(LANES - 1) ? '0 : lane_q + 1'b1;
    end
  end

  // The credits guarantee room: the FIFO's tready is not needed.
  logic unused;
  assign unused = in_ready;

endmodule

`default_nettype wire
