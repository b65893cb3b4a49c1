// Table look-up (DESIGN.md "Integer IR", sigmoid; the attention gate): y = lut[x - lo_in],
// lo_in the input dtype's minimum (index x + 128 for int8, x for uint8). The 256-entry LUT
// (from the IR, values in the output dtype) is a distributed ROM read in the cycle an element
// enters the result FIFO: no pipeline, so the FIFO's tready is the input's.
// Input and output: N elements per image, images back to back; tlast on each image's last.
// Cycles per image: N.
//
// LUT_FILE ($readmemh): 256 words of 8 bits, word i = lut[i] (two's complement for int8).
`default_nettype none

module sigmoid #(
  parameter int unsigned N = 16,           // elements per image (H*W*C)
  parameter bit          IN_SIGNED = 1'b1, // input dtype int8 (1) or uint8 (0)
  parameter int unsigned FIFO_DEPTH = 16,  // result FIFO entries, a power of two >= 2
  parameter              LUT_FILE = ""     // LUT ROM image (string; "" leaves zeros)
) (
  `HCCR_ENGINE_PORTS(8)
);

  logic [7:0] lut [256];  // a ROM in LUTs (asynchronous read)

  initial begin
    if (LUT_FILE != "") $readmemh(LUT_FILE, lut);
  end

  logic [7:0] y;
  logic       last;

  assign y = lut[s_axis_tdata ^ {IN_SIGNED, 7'd0}];  // index x - lo_in

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(1), .CHANNELS(N)) u_count (
    .clk, .rst_n, .step_i(s_axis_tvalid && s_axis_tready), .c_o(), .pix_o(), .c_last_o(),
    .pix_first_o(), .pix_last_o(), .last_o(last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  fifo #(.DATA_W(8), .DEPTH(FIFO_DEPTH)) u_fifo (
    .clk, .rst_n,
    .s_axis_tdata(y), .s_axis_tvalid, .s_axis_tready, .s_axis_tlast(last),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = s_axis_tlast;

endmodule

`default_nettype wire
