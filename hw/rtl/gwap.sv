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
  `HCCR_HWC_PARAMS,
  `HCCR_IN_PARAMS,
  `HCCR_OUT_PARAMS,
  parameter              WEIGHT_FILE = "", // weight ROM image (string; "" leaves zeros)
  parameter              PARAM_FILE = ""   // M/shift ROM image (string; "" leaves zeros)
) (
  `HCCR_ENGINE_PORTS(OUT_W)
);

  localparam int unsigned N  = H * W * C;            // elements per image
  localparam int unsigned CW = hccr_pkg::idx_w(C);   // channel index bits

  (* rom_style = "block" *) logic [7:0]  wrom [N];
  (* rom_style = "block" *) logic [21:0] prom [C];

  initial begin
    if (WEIGHT_FILE != "") $readmemh(WEIGHT_FILE, wrom);
    if (PARAM_FILE != "") $readmemh(PARAM_FILE, prom);
  end

  // ---- take one element per cycle; the last pixel's only with a result slot (credit)
  logic [hccr_pkg::idx_w(N)-1:0] n;  // the element's weight address
  logic [CW-1:0]                 c;
  logic                          credit, first_pix, last_pix, last, take;

  assign s_axis_tready = !last_pix || credit;
  assign take = s_axis_tvalid && s_axis_tready;

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(), .pix_first_o(first_pix),
    .pix_last_o(last_pix), .last_o(last)
  );
  hwc_counter #(.PIXELS(1), .CHANNELS(N)) u_addr (
    .clk, .rst_n, .step_i(take), .c_o(n), .pix_o(), .c_last_o(), .pix_first_o(), .pix_last_o(),
    .last_o()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // ---- stage 1: ROM words, centred input; product added to the channel's accumulator
  logic               v_q, first_q;
  logic [CW-1:0]      c1_q;
  logic signed [8:0]  x_c, x_q;
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

  assign x_c = hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP);

  always_ff @(posedge clk) begin
    w_q <= wrom[n];
    p_q <= prom[c];
    x_q <= x_c;
    c1_q <= c;
    first_q <= first_pix;
  end

  assign sum = (first_q ? 32'sd0 : acc_ram[c1_q]) + 32'(x_q * w_q);

  always_ff @(posedge clk) begin
    if (v_q) begin
      acc_ram[c1_q] <= sum;
    end
  end

  rq_tail #(`HCCR_OUT_CONNECT, .DELAY(1)) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take && last_pix), .last_i(last),
    .acc_i(sum), .mult_i(p_q[15:0]), .shift_i(p_q[21:16]),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
