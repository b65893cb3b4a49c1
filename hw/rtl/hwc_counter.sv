// Where an element stream is in its HWC walk (channels fastest, images back to back): the
// channel and pixel counters of every engine that takes one element per beat, written once
// (as lowRISC's ibex_counter serves every counter). A flat count of N elements is
// PIXELS = 1, CHANNELS = N.
`default_nettype none

module hwc_counter #(
  parameter int unsigned PIXELS   = 1,  // pixels per image (H*W), >= 1
  parameter int unsigned CHANNELS = 1   // elements per pixel, >= 1
) (
  input  wire                                     clk,
  input  wire                                     rst_n,        // synchronous, active low

  input  wire                                     step_i,       // the element is taken
  output logic [hccr_pkg::idx_w(CHANNELS)-1:0]    c_o,          // its channel
  output logic [hccr_pkg::idx_w(PIXELS)-1:0]      pix_o,        // its pixel
  output logic                                    c_last_o,     // last channel of its pixel
  output logic                                    pix_first_o,  // in the image's first pixel
  output logic                                    pix_last_o,   // in the image's last pixel
  output logic                                    last_o        // the image's last element
);

  localparam int unsigned CW = hccr_pkg::idx_w(CHANNELS);
  localparam int unsigned PW = hccr_pkg::idx_w(PIXELS);

  if (PIXELS < 1 || CHANNELS < 1) begin : g_bad_size
    $fatal(1, "hwc_counter: PIXELS=%0d CHANNELS=%0d must be >= 1", PIXELS, CHANNELS);
  end

  logic [CW-1:0] c_q;
  logic [PW-1:0] pix_q;

  assign c_o         = c_q;
  assign pix_o       = pix_q;
  assign c_last_o    = c_q == CW'(CHANNELS - 1);
  assign pix_first_o = pix_q == '0;
  assign pix_last_o  = pix_q == PW'(PIXELS - 1);
  assign last_o      = c_last_o && pix_last_o;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      c_q   <= '0;
      pix_q <= '0;
    end else if (step_i) begin
      c_q <= c_last_o ? '0 : c_q + 1'b1;
      if (c_last_o) begin
        pix_q <= pix_last_o ? '0 : pix_q + 1'b1;
      end
    end
  end

endmodule

`default_nettype wire
