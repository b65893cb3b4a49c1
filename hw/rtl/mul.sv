// Elementwise multiply with broadcast (DESIGN.md "Integer IR", mul): the attention gate.
//   acc = (a - A_ZP) * (b - B_ZP),   y = clamp(OUT_ZP + ((acc * MULT + r) >>> SHIFT))
// a (s0_axis): H*W*C elements per image, HWC order (channels fastest). b (s1_axis) is either
//   GATE = 1: [1, 1, C], one value per channel: an image's C values are read first, then a
//             streams against them (cycles per image: C + H*W*C);
//   GATE = 0: [H, W, 1], one value per pixel, taken with the pixel's first channel of a and
//             held for the others (lockstep; cycles per image: H*W*C).
// Output: H*W*C elements per image, tlast on the last. An element of a is taken only while a
// result FIFO slot is free (rq_tail.sv credits); the product is registered before the tail.
`default_nettype none

module mul #(
  `HCCR_HWC_PARAMS,
  parameter bit          GATE = 1'b1,      // b is [1,1,C] (1) or [H,W,1] (0)
  parameter bit          A_SIGNED = 1'b1,  // first input int8 (1) or uint8 (0)
  parameter int          A_ZP = 0,         // first input zero point
  parameter bit          B_SIGNED = 1'b1,  // second input int8 (1) or uint8 (0)
  parameter int          B_ZP = 0,         // second input zero point
  `HCCR_RQ_PARAMS,
  `HCCR_OUT_PARAMS
) (
  `HCCR_CLOCK_PORTS,
  `HCCR_AXIS_IN(s0_axis, 8),       // a (tlast unused)
  `HCCR_AXIS_IN(s1_axis, 8),       // b (tlast unused)
  `HCCR_AXIS_OUT(m_axis, OUT_W)
);

  localparam int unsigned CW = hccr_pkg::idx_w(C);  // channel index bits

  `HCCR_CHECK_RQ("mul: MULT", MULT, SHIFT)

  logic [CW-1:0]     c;
  logic              credit, take, img_last;
  logic signed [8:0] a_c, b_c, b_use;

  assign a_c = hccr_pkg::centre(s0_axis_tdata, A_SIGNED, A_ZP);
  assign b_c = hccr_pkg::centre(s1_axis_tdata, B_SIGNED, B_ZP);

  if (GATE) begin : g_gate
    // b's C values per image into a register file, then a streams against them.
    logic signed [8:0] gate_q [C];
    logic [CW-1:0]     g;
    logic              load_q, load, loaded;  // reading the next image's gate values

    assign s1_axis_tready = load_q;
    assign load = load_q && s1_axis_tvalid;
    assign take = !load_q && s0_axis_tvalid && credit;
    assign b_use = gate_q[c];

    always_ff @(posedge clk) begin
      if (load) begin
        gate_q[g] <= b_c;
      end
    end

    /* verilator lint_off PINCONNECTEMPTY */
    hwc_counter #(.PIXELS(1), .CHANNELS(C)) u_gate_count (
      .clk, .rst_n, .step_i(load), .c_o(g), .pix_o(), .c_last_o(), .pix_first_o(),
      .pix_last_o(), .last_o(loaded)
    );
    /* verilator lint_on PINCONNECTEMPTY */

    always_ff @(posedge clk) begin
      if (!rst_n) begin
        load_q <= 1'b1;
      end else if (load) begin
        load_q <= !loaded;
      end else if (take && img_last) begin
        load_q <= 1'b1;
      end
    end
  end else begin : g_pixel
    // b's pixel value joins a's first channel of the pixel and is held for the others.
    logic signed [8:0] b_q;
    logic              first;

    assign first = c == '0;
    assign take = s0_axis_tvalid && credit && (!first || s1_axis_tvalid);
    assign s1_axis_tready = take && first;
    assign b_use = first ? b_c : b_q;

    always_ff @(posedge clk) begin
      if (take && first) begin
        b_q <= b_c;
      end
    end
  end

  assign s0_axis_tready = take;

  /* verilator lint_off PINCONNECTEMPTY */
  hwc_counter #(.PIXELS(H * W), .CHANNELS(C)) u_count (
    .clk, .rst_n, .step_i(take), .c_o(c), .pix_o(), .c_last_o(), .pix_first_o(),
    .pix_last_o(), .last_o(img_last)
  );
  /* verilator lint_on PINCONNECTEMPTY */

  // ---- product register, then the tail
  logic signed [31:0] prod_q;

  always_ff @(posedge clk) begin
    prod_q <= 32'(a_c * b_use);
  end

  rq_tail #(`HCCR_OUT_CONNECT, .DELAY(1)) u_tail (
    .clk, .rst_n,
    .credit_o(credit), .issue_i(take), .last_i(img_last),
    .acc_i(prod_q), .mult_i(16'(MULT)), .shift_i(6'(SHIFT)),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast
  );

  logic unused;
  assign unused = ^{s0_axis_tlast, s1_axis_tlast};

endmodule

`default_nettype wire
