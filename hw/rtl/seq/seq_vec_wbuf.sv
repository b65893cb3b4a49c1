// Byte realigner of the vector unit's DDR weights (GWAP): 64-bit words in, up to SIMD bytes out
// per pop, in stream order. It holds 2·SIMD + 8 bytes and takes a word whenever at most 2·SIMD
// are held (in_ready_o depends on the count only), so pops never wait while the words arrive
// at least as fast as the pops take bytes (8 bytes per cycle against up to SIMD per pop).
`default_nettype none

module seq_vec_wbuf #(
  parameter int unsigned SIMD = 8  // most bytes one pop takes, 1..255
) (
  input  wire               clk,
  input  wire               rst_n,       // synchronous, active low
  input  wire               clear_i,     // drop every byte held
  input  wire  [63:0]       in_data_i,   // byte 0 first
  input  wire               in_valid_i,
  output logic              in_ready_o,
  input  wire               pop_i,       // take pop_len_i bytes (pop_len_i <= count_o)
  input  wire  [15:0]       pop_len_i,
  output logic [SIMD*8-1:0] data_o,      // the SIMD oldest bytes (byte 0 oldest)
  output logic [15:0]       count_o      // bytes held
);

  localparam int unsigned NB = 2 * SIMD + 8;  // bytes held at most

  logic [NB*8-1:0] buf_q, shifted, buf_d;
  logic [15:0]     cnt_q, cnt_pop;
  logic            push;

  assign push       = in_valid_i && in_ready_o;
  assign in_ready_o = cnt_q <= 16'(2 * SIMD);
  assign shifted    = buf_q >> (pop_i ? {pop_len_i, 3'b0} : 19'd0);
  assign cnt_pop    = cnt_q - (pop_i ? pop_len_i : 16'd0);
  assign data_o     = buf_q[SIMD*8-1:0];
  assign count_o    = cnt_q;

  always_comb begin
    for (int j = 0; j < NB; j++) begin
      buf_d[j*8 +: 8] = shifted[j*8 +: 8];
      if (push && 16'(j) >= cnt_pop && 16'(j) < cnt_pop + 16'd8) begin
        buf_d[j*8 +: 8] = 8'(in_data_i >> {16'(j) - cnt_pop, 3'b0});
      end
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n || clear_i) begin
      cnt_q <= '0;
    end else begin
      cnt_q <= cnt_pop + (push ? 16'd8 : 16'd0);
    end
  end

  always_ff @(posedge clk) begin
    buf_q <= buf_d;
  end

endmodule

`default_nettype wire
