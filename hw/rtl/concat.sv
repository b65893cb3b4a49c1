// Concatenation along channels (DESIGN.md "Integer IR", concat): inputs and output share
// dtype, scale and zero point, so elements pass unchanged. Per pixel the output carries input
// 0's C0 channels, then input 1's C1, ..., input N-1's. The N inputs arrive on one packed port
// (lane i: s_axis_tdata[i*8 +: 8], bit i of tvalid/tready/tlast), each H*W*Ci elements per
// image in HWC order; the output is H*W*(C0+...+CN-1) elements, tlast on each image's last.
// A multiplexer without storage or latency: the selected lane's beat passes when the output
// takes it (the generator puts a FIFO on every engine input). Cycles per image: the output's
// beats, H*W*(C0+...+CN-1).
`default_nettype none

module concat #(
  parameter int unsigned H = 4,   // height
  parameter int unsigned W = 4,   // width
  parameter int unsigned N = 2,   // inputs, 2..8
  parameter int unsigned C0 = 1,  // channels of input 0 (>= 1)
  parameter int unsigned C1 = 1,  // channels of input 1 (>= 1)
  parameter int unsigned C2 = 0,  // channels of input 2 (>= 1 if N > 2, else 0)
  parameter int unsigned C3 = 0,  // channels of input 3 (>= 1 if N > 3, else 0)
  parameter int unsigned C4 = 0,  // channels of input 4 (>= 1 if N > 4, else 0)
  parameter int unsigned C5 = 0,  // channels of input 5 (>= 1 if N > 5, else 0)
  parameter int unsigned C6 = 0,  // channels of input 6 (>= 1 if N > 6, else 0)
  parameter int unsigned C7 = 0   // channels of input 7 (>= 1 if N > 7, else 0)
) (
  input  wire                clk,
  input  wire                rst_n,          // synchronous, active low

  input  wire  [N*8-1:0]     s_axis_tdata,   // lane i = input i
  input  wire  [N-1:0]       s_axis_tvalid,
  output logic [N-1:0]       s_axis_tready,
  input  wire  [N-1:0]       s_axis_tlast,   // unused: an image has a fixed size

  output logic [7:0]         m_axis_tdata,
  output logic               m_axis_tvalid,
  input  wire                m_axis_tready,
  output logic               m_axis_tlast
);

  function automatic int unsigned channels(input int unsigned i);  // C<i>
    case (i)
      0: channels = C0;
      1: channels = C1;
      2: channels = C2;
      3: channels = C3;
      4: channels = C4;
      5: channels = C5;
      6: channels = C6;
      7: channels = C7;
      default: channels = 0;
    endcase
  endfunction

  // Output channel of input i's last channel: C0 + ... + Ci - 1.
  function automatic int unsigned last_channel(input int unsigned i);
    last_channel = 0;
    for (int j = 0; j < 8; j++) begin
      last_channel = last_channel + (j <= i ? channels(j) : 0);
    end
    last_channel = last_channel - 1;
  endfunction

  localparam int unsigned CT = last_channel(N - 1) + 1;  // output channels
  localparam int unsigned CW = hccr_pkg::idx_w(CT);      // output channel bits

  if (N < 2 || N > 8) begin : g_bad_n
    $fatal(1, "concat: N=%0d inputs must be in 2..8", N);
  end
  for (genvar i = 0; i < 8; i++) begin : g_check
    if ((i < N) != (channels(i) > 0)) begin : g_bad_c
      $fatal(1, "concat: C%0d=%0d must be >= 1 for the N=%0d inputs and 0 beyond", i,
             channels(i), N);
    end
  end

  logic [2:0]    i_q;     // input index
  logic [CW-1:0] c;       // output channel
  logic          pixel_done, take;
  logic [7:0]    valid8;  // tvalid of each input, zero-extended to 8 lanes

  assign m_axis_tdata = s_axis_tdata[i_q*8 +: 8];
  assign valid8 = 8'(s_axis_tvalid);
  assign m_axis_tvalid = valid8[i_q];
  assign s_axis_tready = N'(m_axis_tready) << i_q;
  assign take = m_axis_tvalid && m_axis_tready;

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(CT)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(pixel_done), .pix_first_o(),
    .pix_last_o(), .last_o(m_axis_tlast)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      i_q <= '0;
    end else if (take && c == CW'(last_channel(32'(i_q)))) begin
      i_q <= pixel_done ? '0 : i_q + 1'b1;
    end
  end

  logic unused;
  assign unused = ^s_axis_tlast;

endmodule

`default_nettype wire
