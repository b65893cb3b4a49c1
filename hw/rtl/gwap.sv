// Global weighted average pooling (DESIGN.md "Integer IR", gwap): per channel c,
//   acc[c] = sum over the H*W pixels of (x - IN_ZP) * w[h][w][c],
//   y[c]   = clamp(OUT_ZP + ((acc[c] * M[c] + r) >>> s[c]))
// Input: H*W*C elements per image, HWC order (channels fastest), images back to back; output:
// C elements per image, tlast on the last. One input element per cycle (cycles per image:
// H*W*C): weight and parameter ROMs are read in the cycle an element is taken, the product is
// added to the channel's accumulator (a RAM, read and written in one cycle) the next; the last
// pixel's sums go to the tail (rq_tail.sv), whose credits gate the last pixel's elements.
//
// ROM files ($readmemh, one hex word per line):
//   WEIGHT_FILE: H*W*C words of 8 bits, word (h*W + w)*C + c = w[h][w][c] (the stream order).
//   PARAM_FILE: C words of 22 bits, word c = {shift[5:0], M[15:0]}.
`default_nettype none

module gwap #(
  parameter int unsigned H = 4,            // input height
  parameter int unsigned W = 4,            // input width
  parameter int unsigned C = 1,            // channels
  parameter bit          IN_SIGNED = 1'b1, // input dtype int8 (1) or uint8 (0)
  parameter int          IN_ZP = 0,        // input zero point
  parameter int unsigned OUT_W = 8,        // output element width: 8 or 32 (int32)
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype signed
  parameter int          OUT_ZP = 0,       // output zero point
  parameter int unsigned FIFO_DEPTH = 16,  // result FIFO entries, a power of two >= 2
  parameter              WEIGHT_FILE = "", // weight ROM image (string; "" leaves zeros)
  parameter              PARAM_FILE = ""   // M/shift ROM image (string; "" leaves zeros)
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
  localparam int unsigned N    = NPIX * C;                     // elements per image
  localparam int unsigned CW   = C > 1 ? $clog2(C) : 1;        // channel index bits
  localparam int unsigned PW   = NPIX > 1 ? $clog2(NPIX) : 1;  // pixel index bits
  localparam int unsigned NW   = N > 1 ? $clog2(N) : 1;        // element (weight address) bits

  if (H < 1 || W < 1 || C < 1) begin : g_bad_shape
    $fatal(1, "gwap: H=%0d W=%0d C=%0d must be >= 1", H, W, C);
  end

  (* rom_style = "block" *) logic [7:0]  wrom [N];
  (* rom_style = "block" *) logic [21:0] prom [C];

  initial begin
    if (WEIGHT_FILE != "") $readmemh(WEIGHT_FILE, wrom);
    if (PARAM_FILE != "") $readmemh(PARAM_FILE, prom);
  end

  // ---- take one element per cycle; the last pixel's only with a result slot (credit)
  logic [NW-1:0]      n_q;
  logic [CW-1:0]      c_q;
  logic [PW-1:0]      pix_q;
  logic               credit, last_pix, take;

  assign last_pix = pix_q == PW'(NPIX - 1);
  assign s_axis_tready = !last_pix || credit;
  assign take = s_axis_tvalid && s_axis_tready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      n_q <= '0;
      c_q <= '0;
      pix_q <= '0;
    end else if (take) begin
      n_q <= n_q == NW'(N - 1) ? '0 : n_q + 1'b1;
      c_q <= c_q == CW'(C - 1) ? '0 : c_q + 1'b1;
      if (c_q == CW'(C - 1)) begin
        pix_q <= last_pix ? '0 : pix_q + 1'b1;
      end
    end
  end

  // ---- stage 1: ROM words, centred input; product added to the channel's accumulator
  logic               v_q, first_q, last_pix_q, last_q;
  logic [CW-1:0]      c1_q;
  logic signed [8:0]  x_q;
  logic signed [7:0]  w_q;
  logic [21:0]        p_q;
  logic signed [31:0] acc_ram [C];
  logic signed [31:0] sum;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v_q <= 1'b0;
    end else begin
      v_q <= take;
    end
  end

  always_ff @(posedge clk) begin
    w_q <= wrom[n_q];
    p_q <= prom[c_q];
    x_q <= 9'((IN_SIGNED ? 10'($signed(s_axis_tdata)) : 10'($signed({1'b0, s_axis_tdata})))
              - 10'(IN_ZP));
    c1_q <= c_q;
    first_q <= pix_q == '0;
    last_pix_q <= last_pix;
    last_q <= last_pix && c_q == CW'(C - 1);
  end

  assign sum = (first_q ? 32'sd0 : acc_ram[c1_q]) + 32'(x_q * w_q);

  always_ff @(posedge clk) begin
    if (v_q) begin
      acc_ram[c1_q] <= sum;
    end
  end

  rq_tail #(
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)
  ) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take && last_pix),
    .valid_i(v_q && last_pix_q), .acc_i(sum), .mult_i(p_q[15:0]), .shift_i(p_q[21:16]),
    .last_i(last_q),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
