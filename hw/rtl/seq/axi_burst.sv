// AXI burst splitter: cuts a DMA command (byte address, byte count) into INCR bursts of
// 64-bit beats, each at most MAX_BURST beats and never crossing a 4 KB boundary.
//
// The next burst (address, beats, last of the command) is presented combinationally from the
// state while burst_valid_o is high; take_i consumes it. cmd_ready_o is high while no command
// is being split (one idle cycle between commands). The address's low 3 bits and the count's
// are ignored (both are multiples of 8); a command of 0 bytes is accepted and gives no burst.
// flush_i drops the rest of the current command (and any command accepted while it is high).
`default_nettype none

module axi_burst #(
  parameter int unsigned MAX_BURST = 16  // beats per burst, 1..256 (16 for AXI3 ports)
) (
  input  wire         clk,
  input  wire         rst_n,          // synchronous, active low
  input  wire         flush_i,        // drop the remaining bursts

  `HCCR_DMA_CMD_PORTS(cmd),

  output logic [31:0] burst_addr_o,   // byte address of the burst
  output logic [8:0]  burst_beats_o,  // 1..MAX_BURST
  output logic        burst_last_o,   // the command's final burst
  output logic        burst_valid_o,
  input  wire         take_i          // consume the burst (only while burst_valid_o)
);

  if (MAX_BURST < 1 || MAX_BURST > 256) begin : g_bad_burst
    $fatal(1, "axi_burst: MAX_BURST=%0d must be 1..256", MAX_BURST);
  end

  logic [28:0] word_q;   // address of the next beat, in 8-byte words
  logic [28:0] left_q;   // beats of the command not yet in a burst
  logic [9:0]  to_page;  // beats to the next 4 KB boundary, 1..512
  logic [28:0] beats;

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
  assign burst_valid_o = left_q != '0 && !flush_i;
  assign burst_addr_o  = {word_q, 3'b000};
  assign burst_beats_o = beats[8:0];
  assign burst_last_o  = beats == left_q;

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      left_q <= '0;
    end else if (flush_i) begin
      left_q <= '0;
    end else if (cmd_valid_i && cmd_ready_o) begin
      left_q <= cmd_bytes_i[31:3];
    end else if (take_i && burst_valid_o) begin
      left_q <= left_q - beats;
    end
  end

  always_ff @(posedge clk) begin
    if (cmd_valid_i && cmd_ready_o) begin
      word_q <= cmd_addr_i[31:3];
    end else if (take_i && burst_valid_o) begin
      word_q <= word_q + beats;
    end
  end

  logic unused;
  assign unused = ^{cmd_addr_i[2:0], cmd_bytes_i[2:0]};

endmodule

`default_nettype wire
