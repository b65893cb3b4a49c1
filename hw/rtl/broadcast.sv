// Broadcast of one AXI4-Stream to N outputs: the dataflow graph's fork, for a tensor that
// several engines read (`fork` itself is a SystemVerilog keyword).
//
// Every input beat (tdata, tlast) is offered to all N outputs at once; each output takes it
// when its own tready is high, and a flag remembers the outputs that already have it, so the
// outputs accept independently. The input beat is consumed (s_axis_tready) in the cycle the
// last output takes it: one beat per cycle when every output is ready, no latency (tdata
// passes through), and m_axis_tvalid never depends on any tready. Outputs are packed: lane i
// of m_axis_tdata is [i*DATA_W +: DATA_W], bit i of m_axis_tvalid/tready/tlast.
`default_nettype none

module broadcast #(
  parameter int unsigned DATA_W = 8,  // tdata width in bits (>= 1)
  parameter int unsigned N = 2        // number of outputs (>= 2)
) (
  input  wire                 clk,
  input  wire                 rst_n,          // synchronous, active low

  input  wire  [DATA_W-1:0]   s_axis_tdata,
  input  wire                 s_axis_tvalid,
  output logic                s_axis_tready,
  input  wire                 s_axis_tlast,

  output logic [N*DATA_W-1:0] m_axis_tdata,
  output logic [N-1:0]        m_axis_tvalid,
  input  wire  [N-1:0]        m_axis_tready,
  output logic [N-1:0]        m_axis_tlast
);

  if (DATA_W < 1) begin : g_bad_width
    $fatal(1, "broadcast: DATA_W=%0d must be >= 1", DATA_W);
  end
  if (N < 2) begin : g_bad_n
    $fatal(1, "broadcast: N=%0d must be >= 2", N);
  end

  logic [N-1:0] sent_q;  // outputs that took the current input beat already
  logic [N-1:0] taken;   // outputs taking it this cycle

  assign m_axis_tdata  = {N{s_axis_tdata}};
  assign m_axis_tlast  = {N{s_axis_tlast}};
  assign m_axis_tvalid = {N{s_axis_tvalid}} & ~sent_q;
  assign taken         = m_axis_tvalid & m_axis_tready;
  assign s_axis_tready = &(sent_q | m_axis_tready);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      sent_q <= '0;
    end else if (s_axis_tvalid && s_axis_tready) begin
      sent_q <= '0;
    end else begin
      sent_q <= sent_q | taken;
    end
  end

endmodule

`default_nettype wire
