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

  localparam int unsigned NPIX = H * W;                        // pixels per image
  localparam int unsigned CW   = C > 1 ? $clog2(C) : 1;        // channel index bits
  localparam int unsigned PW   = NPIX > 1 ? $clog2(NPIX) : 1;  // pixel index bits

  if (H < 1 || W < 1 || C < 1) begin : g_bad_shape
    $fatal(1, "prelu: H=%0d W=%0d C=%0d must be >= 1", H, W, C);
  end
  if (M_POS < 1 || M_POS > 32768 || SHIFT > 46) begin : g_bad_rq
    $fatal(1, "prelu: M_POS=%0d must be in 1..32768 and SHIFT=%0d in 0..46", M_POS, SHIFT);
  end

  (* rom_style = "block" *) logic [15:0] neg_rom [C];

  initial begin
    if (NEG_FILE != "") $readmemh(NEG_FILE, neg_rom);
  end

  logic [CW-1:0]      c_q;
  logic [PW-1:0]      pix_q;
  logic               credit, take, v_q, last_q;
  logic signed [31:0] x_c, x_q;
  logic [15:0]        neg_q;

  assign s_axis_tready = credit;
  assign take = s_axis_tvalid && credit;
  assign x_c = (IN_SIGNED ? 32'($signed(s_axis_tdata)) : 32'($signed({1'b0, s_axis_tdata})))
               - 32'(IN_ZP);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      c_q <= '0;
      pix_q <= '0;
      v_q <= 1'b0;
    end else begin
      v_q <= take;
      if (take) begin
        c_q <= c_q == CW'(C - 1) ? '0 : c_q + 1'b1;
        if (c_q == CW'(C - 1)) begin
          pix_q <= pix_q == PW'(NPIX - 1) ? '0 : pix_q + 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    neg_q <= neg_rom[c_q];
    x_q <= x_c;
    last_q <= pix_q == PW'(NPIX - 1) && c_q == CW'(C - 1);
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
