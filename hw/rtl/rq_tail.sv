// Result tail shared by the one-element-per-cycle requantising engines (add, global_avgpool,
// gwap, mul, prelu, reduce_channels, requant): credits -> requantiser (4-cycle pipeline,
// requantiser.sv) -> result FIFO (lane_fifo.sv) -> m_axis.
//
// An engine issues a result (issue_i) only while credit_o is high, i.e. while a FIFO slot is
// free for it counting every result still in flight, saying whether it is the image's last
// (last_i; or, with RESULTS > 0, every RESULTS-th issue is an image's last); its accumulator, M
// and s then arrive DELAY cycles later (the engine's own pipeline). So nothing upstream of the
// FIFO ever stalls.
// y = clamp(OUT_ZP + ((acc * M + r) >>> s)) per DESIGN.md; last_i becomes tlast.
`default_nettype none

module rq_tail #(
  parameter int unsigned OUT_W = 8,          // output element width: 8 or 32 (int32)
  parameter bit          OUT_SIGNED = 1'b1,  // output dtype signed
  parameter int          OUT_ZP = 0,         // output zero point
  parameter int unsigned FIFO_DEPTH = 16,    // result FIFO entries, a power of two >= 2
  parameter int unsigned DELAY = 0,          // cycles from issue_i to its accumulator
  parameter int unsigned RESULTS = 0         // results per image, counted here (0: last_i)
) (
  input  wire               clk,
  input  wire               rst_n,      // synchronous, active low

  output logic              credit_o,   // a result may be issued this cycle
  input  wire               issue_i,    // a result is issued (only while credit_o)

  input  wire               last_i,     // it is the image's last result (RESULTS = 0)
  input  wire  [31:0]       acc_i,      // its signed accumulator, DELAY cycles later
  input  wire  [15:0]       mult_i,     // its M, 1..32768, with acc_i
  input  wire  [5:0]        shift_i,    // its s, 0..46, with acc_i

  output logic [OUT_W-1:0]  m_axis_tdata,
  output logic              m_axis_tvalid,
  input  wire               m_axis_tready,
  output logic              m_axis_tlast
);

  localparam int unsigned FW = $clog2(FIFO_DEPTH + 1);  // credit counter bits

  if (OUT_W != 8 && OUT_W != 32) begin : g_bad_out
    $fatal(1, "rq_tail: OUT_W=%0d must be 8 or 32", OUT_W);
  end

  logic [FW-1:0] inflight_q;
  logic          pop;  // a result leaves the FIFO

  assign credit_o = inflight_q < FW'(FIFO_DEPTH);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      inflight_q <= '0;
    end else begin
      inflight_q <= inflight_q + FW'(issue_i) - FW'(pop);
    end
  end

  // Whether an issue is its image's last: last_i, or the count of issues.
  logic is_last;

  if (RESULTS == 0) begin : g_last_in
    assign is_last = last_i;
  end else begin : g_count
    /* verilator lint_off PINCONNECTEMPTY */
    hwc_counter #(.PIXELS(1), .CHANNELS(RESULTS)) u_count (
      .clk, .rst_n, .step_i(issue_i), .c_o(), .pix_o(), .c_last_o(), .pix_first_o(),
      .pix_last_o(), .last_o(is_last)
    );
    /* verilator lint_on PINCONNECTEMPTY */
    logic unused;
    assign unused = last_i;
  end

  // The issues (and whether each is its image's last) of the last DELAY cycles: the oldest
  // one's accumulator is on acc_i.
  logic valid, last;

  if (DELAY == 0) begin : g_now
    assign valid = issue_i;
    assign last  = is_last;
  end else begin : g_delay
    logic [DELAY-1:0] issued_q, last_q;

    always_ff @(posedge clk) begin
      if (!rst_n) begin
        issued_q <= '0;
      end else begin
        issued_q <= DELAY'({issued_q, issue_i});
      end
    end

    always_ff @(posedge clk) begin
      last_q <= DELAY'({last_q, is_last});
    end

    assign valid = issued_q[DELAY-1];
    assign last  = last_q[DELAY-1];
  end

  logic             rq_valid, rq_last;
  logic [OUT_W-1:0] rq_y;

  requantiser #(
    .LANES(1), .ACC_W(32), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .OUT_ZP(OUT_ZP),
    .RELU(1'b0), .USER_W(1)
  ) u_requantiser (
    .clk, .rst_n,
    .valid_i(valid), .acc_i, .mult_i, .shift_i, .user_i(last),
    .valid_o(rq_valid), .y_o(rq_y), .user_o(rq_last)
  );

  lane_fifo #(.LANES(1), .W(OUT_W), .DEPTH(FIFO_DEPTH)) u_out (
    .clk, .rst_n,
    .data_i(rq_y), .valid_i(rq_valid), .last_i(rq_last),
    .m_axis_tdata, .m_axis_tvalid, .m_axis_tready, .m_axis_tlast, .credit_o(pop)
  );

endmodule

`default_nettype wire
