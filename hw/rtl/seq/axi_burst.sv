// AXI burst issue, a DMA's address channel (AR or AW): cuts a DMA command (byte address, byte
// count) into INCR bursts of 64-bit beats, each at most MAX_BURST beats and never crossing a
// 4 KB boundary, and issues them on ID 0 with up to OUTSTANDING bursts in flight.
//
// The next burst's beats and "last of its command" flag are presented combinationally from the
// state. It is issued (issue_o: loaded into the address register, ax_valid_o from the next
// cycle until ax_ready_i) when room_i says the DMA can take its beats, the register is free or
// being taken, and fewer than OUTSTANDING bursts are in flight (end_i: one of them ended).
// cmd_ready_o is high while no command is being split (one idle cycle between commands). The
// address's low 3 bits and the count's are ignored (both are multiples of 8); a command of 0
// bytes is accepted and gives no burst. stop_i issues nothing and drops the rest of the current
// command (and any command accepted while it is high). busy_o: a command is being split or a
// burst is in flight.
`default_nettype none

module axi_burst #(
  parameter int unsigned MAX_BURST   = 16,  // beats per burst, 1..256 (16 for AXI3 ports)
  parameter int unsigned OUTSTANDING = 4    // bursts in flight, 1..64 (the DMA checks it)
) (
  input  wire         clk,
  input  wire         rst_n,          // synchronous, active low
  input  wire         stop_i,         // issue nothing, drop the remaining bursts

  `HCCR_DMA_CMD_PORTS(cmd),

  input  wire         room_i,         // the DMA can take the beats of the burst shown:
  output logic [8:0]  burst_beats_o,  // its beats, 1..MAX_BURST
  output logic        burst_last_o,   // it is the command's final burst
  output logic        issue_o,        // it is issued this cycle
  input  wire         end_i,          // a burst in flight ended
  output logic        busy_o,

  output logic [0:0]  ax_id_o,        // the address channel, AR or AW without its prefix
  output logic [31:0] ax_addr_o,
  output logic [7:0]  ax_len_o,
  output logic [2:0]  ax_size_o,
  output logic [1:0]  ax_burst_o,
  output logic        ax_lock_o,
  output logic [3:0]  ax_cache_o,
  output logic [2:0]  ax_prot_o,
  output logic [3:0]  ax_qos_o,
  output logic        ax_valid_o,
  input  wire         ax_ready_i
);

  localparam int unsigned FW = $clog2(OUTSTANDING + 1);  // width of the in-flight count

  if (MAX_BURST < 1 || MAX_BURST > 256) begin : g_bad_burst
    $fatal(1, "axi_burst: MAX_BURST=%0d must be 1..256", MAX_BURST);
  end

  logic [28:0]   word_q;      // address of the next beat, in 8-byte words
  logic [28:0]   left_q;      // beats of the command not yet in a burst
  logic [9:0]    to_page;     // beats to the next 4 KB boundary, 1..512
  logic [28:0]   beats;
  logic          valid;       // a burst is shown
  logic [FW-1:0] inflight_q;  // bursts loaded into the address register that have not ended
  logic          axvalid_q;

  assign to_page = 10'd512 - {1'b0, word_q[8:0]};

  always_comb begin
    beats = left_q;
    if (beats > 29'(MAX_BURST)) begin
      beats = 29'(MAX_BURST);
    end
    if (beats > 29'(to_page)) begin
      beats = 29'(to_page);
    end
  end

  assign cmd_ready_o   = left_q == '0;
  assign valid         = left_q != '0 && !stop_i;
  assign burst_beats_o = beats[8:0];
  assign burst_last_o  = beats == left_q;
  assign issue_o       = valid && (!axvalid_q || ax_ready_i)
                         && inflight_q != FW'(OUTSTANDING) && room_i;
  assign busy_o        = valid || inflight_q != '0;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      left_q <= '0;
    end else if (stop_i) begin
      left_q <= '0;
    end else if (cmd_valid_i && cmd_ready_o) begin
      left_q <= cmd_bytes_i[31:3];
    end else if (issue_o) begin
      left_q <= left_q - beats;
    end
  end

  always_ff @(posedge clk) begin
    if (cmd_valid_i && cmd_ready_o) begin
      word_q <= cmd_addr_i[31:3];
    end else if (issue_o) begin
      word_q <= word_q + beats;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      axvalid_q  <= 1'b0;
      inflight_q <= '0;
    end else begin
      if (issue_o) begin
        axvalid_q <= 1'b1;
      end else if (ax_ready_i) begin
        axvalid_q <= 1'b0;
      end
      inflight_q <= inflight_q + FW'(issue_o) - FW'(end_i);
    end
  end

  always_ff @(posedge clk) begin
    if (issue_o) begin
      ax_addr_o <= {word_q, 3'b000};
      ax_len_o  <= 8'(burst_beats_o - 9'd1);
    end
  end

  assign ax_id_o    = '0;
  assign ax_size_o  = 3'd3;     // 8 bytes per beat
  assign ax_burst_o = 2'b01;    // INCR
  assign ax_lock_o  = 1'b0;
  assign ax_cache_o = 4'b0011;  // normal, non-cacheable, bufferable
  assign ax_prot_o  = 3'b000;
  assign ax_qos_o   = 4'd0;
  assign ax_valid_o = axvalid_q;

  logic unused;
  assign unused = ^{cmd_addr_i[2:0], cmd_bytes_i[2:0]};

endmodule

`default_nettype wire
