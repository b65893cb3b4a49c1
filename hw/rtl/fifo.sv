// AXI4-Stream FIFO: DEPTH entries of {tlast, tdata}, first-word fall-through.
//
// The storage is read asynchronously (distributed/LUT RAM); tready and tvalid come straight
// from registers, so the FIFO also cuts the combinational paths between two engines.
`default_nettype none

module fifo #(
  parameter int unsigned DATA_W = 8,  // tdata width in bits (>= 1)
  parameter int unsigned DEPTH  = 16  // number of entries, a power of two >= 2
) (
  input  wire               clk,
  input  wire               rst_n,          // synchronous, active low

  input  wire  [DATA_W-1:0] s_axis_tdata,
  input  wire               s_axis_tvalid,
  output logic              s_axis_tready,
  input  wire               s_axis_tlast,

  output logic [DATA_W-1:0] m_axis_tdata,
  output logic              m_axis_tvalid,
  input  wire               m_axis_tready,
  output logic              m_axis_tlast
);

  localparam int unsigned AW = DEPTH > 1 ? $clog2(DEPTH) : 1;  // entry address width

  if (DATA_W < 1) begin : g_bad_width
    $fatal(1, "fifo: DATA_W=%0d must be >= 1", DATA_W);
  end
  if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin : g_bad_depth
    $fatal(1, "fifo: DEPTH=%0d must be a power of two >= 2", DEPTH);
  end

  logic [DATA_W:0] mem_q [DEPTH];
  logic [AW:0]     wr_ptr_q, rd_ptr_q;
  logic            push, pop;

  assign s_axis_tready = (wr_ptr_q ^ rd_ptr_q) != {1'b1, {AW{1'b0}}};
  assign m_axis_tvalid = wr_ptr_q != rd_ptr_q;
  assign {m_axis_tlast, m_axis_tdata} = mem_q[rd_ptr_q[AW-1:0]];
  assign push = s_axis_tvalid && s_axis_tready;
  assign pop  = m_axis_tvalid && m_axis_tready;

  always_ff @(posedge clk) begin
    if (push) begin
      mem_q[wr_ptr_q[AW-1:0]] <= {s_axis_tlast, s_axis_tdata};
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr_ptr_q <= '0;
      rd_ptr_q <= '0;
    end else begin
      if (push) wr_ptr_q <= wr_ptr_q + 1'b1;
      if (pop)  rd_ptr_q <= rd_ptr_q + 1'b1;
    end
  end

endmodule

`default_nettype wire
