// PReLU (DESIGN.md "Integer IR", prelu): per element of channel c,
//   acc = (x - IN_ZP) * (x >= IN_ZP ? M_POS : M_NEG[c]),
//   y   = clamp(OUT_ZP + ((acc + r) >>> SHIFT))
// computed as the requantiser of x - IN_ZP with M = M_POS or M_NEG[c] (the same integers).
// Input and output: H*W*C elements per image, HWC order (channels fastest), images back to
// back; tlast on each image's last element. One element per cycle (cycles per image: H*W*C),
// taken while a result FIFO slot is free (rq_tail.sv credits).
//
// NEG_FILE ($readmemh): C words of 16 bits, word c = M_NEG[c] (1..32768).
`default_nettype none

module prelu #(
  parameter int unsigned H = 4,            // height
  parameter int unsigned W = 4,            // width
  parameter int unsigned C = 1,            // channels
  parameter bit          IN_SIGNED = 1'b1, // input dtype int8 (1) or uint8 (0)
  parameter int          IN_ZP = 0,        // input zero point
  parameter int unsigned OUT_W = 8,        // output element width: 8 or 32 (int32)
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype signed
  parameter int          OUT_ZP = 0,       // output zero point
  parameter int unsigned M_POS = 1,        // multiplier where x >= IN_ZP, 1..32768
  parameter int unsigned SHIFT = 0,        // shift s, 0..46
  parameter int unsigned FIFO_DEPTH = 16,  // result FIFO entries, a power of two >= 2
  parameter              NEG_FILE = ""     // M_NEG ROM image (string; "" leaves zeros)
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

  if (!hccr_pkg::rq_ok(M_POS, SHIFT)) begin : g_bad_rq
    $fatal(1, "prelu: M_POS=%0d must be in 1..32768 and SHIFT=%0d in 0..46", M_POS, SHIFT);
  end

  (* rom_style = "block" *) logic [15:0] neg_rom [C];

  initial begin
    if (NEG_FILE != "") $readmemh(NEG_FILE, neg_rom);
  end

  logic [hccr_pkg::idx_w(C)-1:0] c;
  logic                          credit, take, last, v_q, last_q;
  logic signed [31:0]            x_c, x_q;
  logic [15:0]                   neg_q;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;
  assign x_c = 32'(hccr_pkg::centre(s_axis_tdata, IN_SIGNED, IN_ZP));

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(), .pix_first_o(),
    .pix_last_o(), .last_o(last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v_q <= 1'b0;
    end else begin
      v_q <= take;
    end
  end

  always_ff @(posedge clk) begin
    neg_q <= neg_rom[c];
    x_q <= x_c;
    last_q <= last;
  end

  rq_tail #(
    .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP), .FIFO_DEPTH(FIFO_DEPTH)
  ) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take),
    .valid_i(v_q), .acc_i(x_q), .mult_i(x_q >= 0 ? 16'(M_POS) : neg_q), .shift_i(6'(SHIFT)),
    .last_i(last_q),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
