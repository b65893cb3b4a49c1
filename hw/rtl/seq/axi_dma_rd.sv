// AXI4 read DMA: commands (byte address, byte count) in, a stream of 64-bit words out,
// m_axis_tlast on each command's final word (a command of 0 bytes gives no word).
//
// Each command is cut into INCR bursts (axi_burst: at most MAX_BURST beats, never across a
// 4 KB boundary), with up to OUTSTANDING bursts in flight on one ID (answered in order). A
// burst is issued only when the output buffer (OUTSTANDING·MAX_BURST words, rounded up to a
// power of two) has room for all its beats, so R is always accepted (rready stays high) and
// the output's backpressure never stalls the interconnect. An R beat with SLVERR or DECERR
// sets error_o (sticky): from then on no AR is issued, the output stops, the bursts in flight
// are drained and dropped, and commands are accepted and dropped; busy_o falls once nothing
// is in flight. clear_i (only while busy_o is low) clears error_o and empties the buffer.
// Words leave in the cycle after their R beat at the earliest (buffer: hw/rtl/fifo.sv).
`default_nettype none

module axi_dma_rd #(
  parameter int unsigned MAX_BURST   = 16,  // beats per burst, 1..256 (16 for AXI3 HP ports)
  parameter int unsigned OUTSTANDING = 4    // bursts in flight, 1..64
) (
  `HCCR_DMA_SIDE_PORTS,

  output logic [63:0] m_axis_tdata,
  output logic        m_axis_tvalid,
  input  wire         m_axis_tready,
  output logic        m_axis_tlast,

  `HCCR_AXI_M_READ_PORTS,

  output logic        busy_o,           // a command is being split or a burst is in flight
  output logic        error_o           // an R beat answered SLVERR/DECERR (sticky)
);

  // Output buffer depth (words): room for every burst in flight.
  localparam int unsigned BUF_DEPTH = 2 ** $clog2(OUTSTANDING * MAX_BURST < 2 ? 2
                                                   : OUTSTANDING * MAX_BURST);
  // Depth of the queue of "last burst of its command" flags.
  localparam int unsigned TAG_DEPTH = 2 ** $clog2(OUTSTANDING < 2 ? 2 : OUTSTANDING);
  localparam int unsigned CW = $clog2(BUF_DEPTH) + 1;  // width of the reserved-words count

  if (OUTSTANDING < 1 || OUTSTANDING > 64) begin : g_bad_outstanding
    $fatal(1, "axi_dma_rd: OUTSTANDING=%0d must be 1..64", OUTSTANDING);
  end

  logic [8:0]    burst_beats;
  logic          burst_last;
  logic          issue;           // the next burst goes to the AR register
  logic          r_beat;          // R handshake
  logic          r_end;           // R handshake on a burst's last beat
  logic          r_bad;           // this R beat is an error response
  logic [CW-1:0] reserved_q;      // buffer words promised to issued bursts, not yet read out
  logic          error_q;
  logic          pop;             // an output word leaves
  logic          buf_ready;
  logic          buf_valid;
  logic          tag_last;
  logic          tag_valid;
  logic          tag_ready;
  logic          buf_rst_n;
  logic          tag_end;         // unused tlast of the flag queue

  // A burst ends with its last R beat; it needs room for its beats in the buffer.
  axi_burst #(.MAX_BURST(MAX_BURST), .OUTSTANDING(OUTSTANDING)) u_burst (
    .clk,
    .rst_n,
    .stop_i        (error_q),
    `HCCR_DMA_CMD_CONNECT(cmd),
    .room_i        (32'(reserved_q) + 32'(burst_beats) <= BUF_DEPTH),
    .burst_beats_o (burst_beats),
    .burst_last_o  (burst_last),
    .issue_o       (issue),
    .end_i         (r_end),
    .busy_o,
    `HCCR_AXI_AX_CONNECT(ar)
  );

  assign r_beat  = m_axi_rvalid && m_axi_rready;
  assign r_end   = r_beat && m_axi_rlast;
  assign r_bad   = m_axi_rresp[1];
  assign pop     = m_axis_tvalid && m_axis_tready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      reserved_q <= '0;
      error_q    <= 1'b0;
    end else begin
      if (clear_i) begin
        reserved_q <= '0;
        error_q    <= 1'b0;
      end else begin
        reserved_q <= reserved_q + (issue ? CW'(burst_beats) : '0) - CW'(pop);
        if (r_beat && r_bad) begin
          error_q <= 1'b1;
        end
      end
    end
  end

  // "Last burst of its command" flags, one per burst in flight, in issue order.
  fifo #(.DATA_W(1), .DEPTH(TAG_DEPTH)) u_tags (
    .clk,
    .rst_n,
    .s_axis_tdata  (burst_last),
    .s_axis_tvalid (issue),
    .s_axis_tready (tag_ready),
    .s_axis_tlast  (1'b0),
    .m_axis_tdata  (tag_last),
    .m_axis_tvalid (tag_valid),
    .m_axis_tready (r_end),
    .m_axis_tlast  (tag_end)
  );

  assign buf_rst_n    = rst_n && !clear_i;
  assign m_axi_rready = buf_ready || error_q;

  fifo #(.DATA_W(64), .DEPTH(BUF_DEPTH)) u_buf (
    .clk,
    .rst_n         (buf_rst_n),
    .s_axis_tdata  (m_axi_rdata),
    .s_axis_tvalid (m_axi_rvalid && !r_bad && !error_q),
    .s_axis_tready (buf_ready),
    .s_axis_tlast  (m_axi_rlast && tag_last),
    .m_axis_tdata,
    .m_axis_tvalid (buf_valid),
    .m_axis_tready (m_axis_tready && !error_q),
    .m_axis_tlast
  );

  assign m_axis_tvalid = buf_valid && !error_q;
  assign error_o       = error_q;

  logic unused;
  assign unused = ^{m_axi_rid, m_axi_rresp[0], tag_valid, tag_ready, tag_end};

endmodule

`default_nettype wire
