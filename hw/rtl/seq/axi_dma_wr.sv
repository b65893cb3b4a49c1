// AXI4 write DMA: commands (byte address, byte count) and a stream of 64-bit words in, INCR
// bursts out (WSTRB all ones), every BRESP checked.
//
// The words of all commands arrive on s_axis in command order (s_axis has no tlast: a command
// of N bytes takes the next N/8 words). They collect in a buffer of 2·MAX_BURST words (a power
// of two); a burst (axi_burst: at most MAX_BURST beats, never across a 4 KB boundary) is
// issued on AW only once all its words are in the buffer, so W never waits for the producer,
// with up to OUTSTANDING bursts awaiting their B on one ID. done_o pulses when the B of a
// command's last burst arrives (the command's data is in memory; a command of 0 bytes writes
// nothing and gives no done_o). A B with SLVERR or DECERR sets error_o (sticky): from then
// on no AW is issued, the W beats of the bursts already issued are still sent (AXI needs
// them), their B responses drained, and further commands and words are accepted and
// dropped; busy_o falls once nothing is in flight. clear_i (only while busy_o is low) clears
// error_o and empties the buffer.
`default_nettype none

module axi_dma_wr #(
  parameter int unsigned MAX_BURST   = 16,  // beats per burst, 1..256 (16 for AXI3 HP ports)
  parameter int unsigned OUTSTANDING = 4    // bursts awaiting B, 1..64
) (
  `HCCR_DMA_SIDE_PORTS,

  input  wire  [63:0] s_axis_tdata,
  input  wire         s_axis_tvalid,
  output logic        s_axis_tready,

  `HCCR_AXI_M_WRITE_PORTS,

  output logic        done_o,           // pulse: a command's data is written
  output logic        busy_o,           // a command is being split or a burst awaits its B
  output logic        error_o           // a B answered SLVERR/DECERR (sticky)
);

  // Buffer depth (words): one burst being written while the next one fills.
  localparam int unsigned BUF_DEPTH = 2 ** $clog2(2 * MAX_BURST);
  // Depth of the queues of issued bursts (W lengths, B flags).
  localparam int unsigned TAG_DEPTH = 2 ** $clog2(OUTSTANDING < 2 ? 2 : OUTSTANDING);
  localparam int unsigned CW = $clog2(BUF_DEPTH) + 1;  // width of the unclaimed-words count

  if (OUTSTANDING < 1 || OUTSTANDING > 64) begin : g_bad_outstanding
    $fatal(1, "axi_dma_wr: OUTSTANDING=%0d must be 1..64", OUTSTANDING);
  end

  logic [8:0]    burst_beats;
  logic          burst_last;
  logic          issue;           // the next burst goes to the AW register
  logic          push;            // a word enters the buffer
  logic          w_beat;          // W handshake
  logic          w_end;           // W handshake on a burst's last beat
  logic          b_done;          // B handshake
  logic [CW-1:0] unclaimed_q;     // buffered words no issued burst has claimed yet
  logic [7:0]    beat_q;          // W beat within the current burst
  logic          error_q;
  logic          buf_ready;
  logic          buf_valid;
  logic          buf_rst_n;
  logic [7:0]    w_len;           // AWLEN of the burst on W
  logic          w_pending;
  logic          b_last;          // the B being answered ends its command
  logic          w_tag_ready;
  logic          b_tag_ready;
  logic          b_tag_valid;
  logic [2:0]    tlasts;          // unused tlast outputs of the three queues

  // A burst ends with its B; it waits until all its words are in the buffer.
  axi_burst #(.MAX_BURST(MAX_BURST), .OUTSTANDING(OUTSTANDING)) u_burst (
    .clk,
    .rst_n,
    .stop_i        (error_q),
    `HCCR_DMA_CMD_CONNECT(cmd),
    .room_i        (32'(unclaimed_q) >= 32'(burst_beats)),
    .burst_beats_o (burst_beats),
    .burst_last_o  (burst_last),
    .issue_o       (issue),
    .end_i         (b_done),
    .busy_o,
    `HCCR_AXI_AX_CONNECT(aw)
  );

  assign push   = s_axis_tvalid && buf_ready && !error_q;
  assign w_beat = m_axi_wvalid && m_axi_wready;
  assign w_end  = w_beat && m_axi_wlast;
  assign b_done = m_axi_bvalid && m_axi_bready;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      unclaimed_q <= '0;
      beat_q      <= '0;
      error_q     <= 1'b0;
      done_o      <= 1'b0;
    end else begin
      if (w_beat) begin
        beat_q <= m_axi_wlast ? '0 : beat_q + 8'd1;
      end
      done_o <= b_done && b_last && !m_axi_bresp[1] && !error_q;
      if (clear_i) begin
        unclaimed_q <= '0;
        error_q     <= 1'b0;
      end else begin
        unclaimed_q <= unclaimed_q + CW'(push) - (issue ? CW'(burst_beats) : '0);
        if (b_done && m_axi_bresp[1]) begin
          error_q <= 1'b1;
        end
      end
    end
  end

  // AWLEN of each issued burst, for W, in issue order.
  fifo #(.DATA_W(8), .DEPTH(TAG_DEPTH)) u_wtags (
    .clk,
    .rst_n,
    .s_axis_tdata  (8'(burst_beats - 9'd1)),
    .s_axis_tvalid (issue),
    .s_axis_tready (w_tag_ready),
    .s_axis_tlast  (1'b0),
    .m_axis_tdata  (w_len),
    .m_axis_tvalid (w_pending),
    .m_axis_tready (w_end),
    .m_axis_tlast  (tlasts[0])
  );

  // "Last burst of its command" flags, for B, in issue order.
  fifo #(.DATA_W(1), .DEPTH(TAG_DEPTH)) u_btags (
    .clk,
    .rst_n,
    .s_axis_tdata  (burst_last),
    .s_axis_tvalid (issue),
    .s_axis_tready (b_tag_ready),
    .s_axis_tlast  (1'b0),
    .m_axis_tdata  (b_last),
    .m_axis_tvalid (b_tag_valid),
    .m_axis_tready (b_done),
    .m_axis_tlast  (tlasts[1])
  );

  assign buf_rst_n     = rst_n && !clear_i;
  assign s_axis_tready = buf_ready || error_q;

  fifo #(.DATA_W(64), .DEPTH(BUF_DEPTH)) u_buf (
    .clk,
    .rst_n         (buf_rst_n),
    .s_axis_tdata,
    .s_axis_tvalid (s_axis_tvalid && !error_q),
    .s_axis_tready (buf_ready),
    .s_axis_tlast  (1'b0),
    .m_axis_tdata  (m_axi_wdata),
    .m_axis_tvalid (buf_valid),
    .m_axis_tready (w_beat),
    .m_axis_tlast  (tlasts[2])
  );

  assign m_axi_wvalid = buf_valid && w_pending;
  assign m_axi_wlast  = beat_q == w_len;
  assign m_axi_wstrb  = 8'hFF;
  assign m_axi_bready = 1'b1;
  assign error_o      = error_q;

  logic unused;
  assign unused = ^{m_axi_bid, m_axi_bresp[0], tlasts, w_tag_ready, b_tag_ready, b_tag_valid};

endmodule

`default_nettype wire
