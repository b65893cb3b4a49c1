// DDR as the layer-sequential engine sees it, for free-running simulation (not synthesisable):
// an AXI4 slave (64-bit data, INCR bursts of 8-byte beats) over a word array preloaded with
// $readmemh("ddr.mem"). Read bursts are accepted up to QUEUE in flight; each one's first beat
// leaves `latency_i` cycles after its AR handshake (plus 0..jitter_i cycles drawn from an
// LFSR). Reads and writes share one bandwidth budget: `rate_q8_i` bytes per cycle (×256) fill
// a bucket of one beat (8 bytes), every beat takes 8 bytes out, so the sustained rate is the
// board's DDR rate, whatever the AXI width. With `rpause_i`, R-valid also pauses at random
// (probability 90/256). A write response leaves 8 cycles after the burst's last beat.
// Addresses past the array answer DECERR. `dump_i` writes words [dump_lo_i, dump_hi_i] to
// "ddr_out.mem" ($writememh).
`default_nettype none

module seq_ddr_model #(
  parameter int unsigned WORDS = 1 << 23,  // 64-bit words (64 MiB)
  parameter int unsigned QUEUE = 8         // bursts accepted per direction
) (
  input  wire         clk,
  input  wire         rst_n,
  input  wire  [31:0] latency_i,      // AR handshake to first R beat, cycles (>= 1)
  input  wire  [31:0] jitter_i,       // extra read latency mask (0: none), LFSR drawn
  input  wire  [31:0] rate_q8_i,      // bytes per cycle × 256
  input  wire         rpause_i,       // random R-valid pauses
  input  wire  [31:0] seed_i,         // LFSR seed (non-zero)
  input  wire         dump_i,         // pulse: write ddr_out.mem
  input  wire  [31:0] dump_lo_i,
  input  wire  [31:0] dump_hi_i,
  `HCCR_AXI_S_ADDR_PORTS(aw),
  input  wire  [63:0] s_axi_wdata,
  input  wire  [7:0]  s_axi_wstrb,
  input  wire         s_axi_wlast,
  input  wire         s_axi_wvalid,
  output logic        s_axi_wready,
  output logic [1:0]  s_axi_bresp,
  output logic        s_axi_bvalid,
  input  wire         s_axi_bready,
  `HCCR_AXI_S_ADDR_PORTS(ar),
  output logic [63:0] s_axi_rdata,
  output logic [1:0]  s_axi_rresp,
  output logic        s_axi_rlast,
  output logic        s_axi_rvalid,
  input  wire         s_axi_rready
);

  localparam int unsigned QW = $clog2(QUEUE);
  localparam int unsigned BEAT_Q8 = 8 * 256;  // bytes of a beat, ×256
  localparam logic [1:0] OKAY = 2'b00, DECERR = 2'b11;

  logic unused;
  assign unused = ^s_axi_awlen;  // write bursts end on wlast

  logic [63:0] mem [WORDS];
  initial $readmemh("ddr.mem", mem);

  logic [63:0] now;
  logic [31:0] lfsr, credit;

  // ---- read bursts in flight: address, beats, cycle their first beat may leave
  logic [31:0] ar_addr [QUEUE];
  logic [8:0]  ar_beats [QUEUE];
  logic [63:0] ar_due [QUEUE];
  logic [QW:0] ar_count;
  logic [QW-1:0] ar_head, ar_tail;
  logic [31:0] r_addr;    // next beat of the head burst
  logic [8:0]  r_left;    // beats of the head burst still to load

  // ---- write bursts: address, beats written so far; responses and when they are due
  logic [31:0] aw_addr [QUEUE];
  logic [QW:0] aw_count, b_count;
  logic [QW-1:0] aw_head, aw_tail, b_head, b_tail;
  logic [63:0] b_due [QUEUE];
  logic [1:0]  b_resp [QUEUE];
  logic [31:0] w_addr;
  logic        w_first, w_bad;

  wire r_ready_slot = !s_axi_rvalid || s_axi_rready;
  wire r_pause = rpause_i && lfsr[7:0] < 8'd90;
  wire r_wants = ar_count != 0 && now >= ar_due[ar_head] && !r_pause;
  wire r_load = r_wants && r_ready_slot && credit >= BEAT_Q8;
  wire [31:0] r_beat_addr = r_left == 0 ? ar_addr[ar_head] : r_addr;
  wire [8:0]  r_beats = r_left == 0 ? ar_beats[ar_head] : r_left;
  wire w_fire = s_axi_wvalid && s_axi_wready;
  wire [31:0] w_beat_addr = w_first ? aw_addr[aw_head] : w_addr;

  assign s_axi_arready = 32'(ar_count) < QUEUE;
  assign s_axi_awready = 32'(aw_count) < QUEUE;
  assign s_axi_wready = aw_count != 0 && 32'(b_count) < QUEUE
                        && credit >= BEAT_Q8 * (r_wants ? 2 : 1);
  assign s_axi_bvalid = b_count != 0 && now >= b_due[b_head];
  assign s_axi_bresp = b_resp[b_head];

  function automatic logic in_range(input logic [31:0] addr);
    return 64'(addr) < 64'(WORDS) * 8;
  endfunction

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      now <= '0;
      lfsr <= seed_i == 0 ? 32'h1 : seed_i;
      credit <= '0;
      ar_count <= '0; ar_head <= '0; ar_tail <= '0; r_left <= '0; r_addr <= '0;
      aw_count <= '0; aw_head <= '0; aw_tail <= '0; w_first <= 1'b1; w_addr <= '0;
      w_bad <= 1'b0;
      b_count <= '0; b_head <= '0; b_tail <= '0;
      s_axi_rvalid <= 1'b0; s_axi_rlast <= 1'b0; s_axi_rdata <= '0; s_axi_rresp <= OKAY;
    end else begin
      now <= now + 1;
      lfsr <= {lfsr[30:0], 1'b0} ^ (lfsr[31] ? 32'h0040_0007 : 32'h0);
      begin : budget
        logic [31:0] c;
        c = credit - (r_load ? BEAT_Q8 : 0) - (w_fire ? BEAT_Q8 : 0) + rate_q8_i;
        credit <= c > BEAT_Q8 + rate_q8_i ? BEAT_Q8 + rate_q8_i : c;
      end
      // reads: accept, then load beats of the head burst into the R register
      if (s_axi_arvalid && s_axi_arready) begin
        if (s_axi_arsize != 3'd3 || s_axi_arburst != 2'b01)
          $fatal(1, "seq_ddr_model: AR size %0d burst %0d (only 8-byte INCR)",
                 s_axi_arsize, s_axi_arburst);
        ar_addr[ar_tail] <= s_axi_araddr;
        ar_beats[ar_tail] <= 9'(s_axi_arlen) + 9'd1;
        ar_due[ar_tail] <= now + 64'(latency_i) - 1 + 64'(lfsr & jitter_i);
        ar_tail <= ar_tail + 1'b1;
      end
      if (r_ready_slot) s_axi_rvalid <= 1'b0;
      if (r_load) begin
        s_axi_rvalid <= 1'b1;
        s_axi_rdata <= in_range(r_beat_addr) ? mem[r_beat_addr[$clog2(WORDS)+2:3]] : '0;
        s_axi_rresp <= in_range(r_beat_addr) ? OKAY : DECERR;
        s_axi_rlast <= r_beats == 1;
        r_addr <= r_beat_addr + 8;
        r_left <= r_beats - 1'b1;
        if (r_beats == 1) ar_head <= ar_head + 1'b1;
      end
      ar_count <= ar_count + (s_axi_arvalid && s_axi_arready ? 1 : 0)
                  - (r_load && r_beats == 1 ? 1 : 0);
      // writes: accept addresses, store beats, queue the response after the last
      if (s_axi_awvalid && s_axi_awready) begin
        if (s_axi_awsize != 3'd3 || s_axi_awburst != 2'b01)
          $fatal(1, "seq_ddr_model: AW size %0d burst %0d (only 8-byte INCR)",
                 s_axi_awsize, s_axi_awburst);
        aw_addr[aw_tail] <= s_axi_awaddr;
        aw_tail <= aw_tail + 1'b1;
      end
      if (w_fire) begin
        if (in_range(w_beat_addr)) begin
          for (int b = 0; b < 8; b++) begin
            if (s_axi_wstrb[b]) mem[w_beat_addr[$clog2(WORDS)+2:3]][8*b +: 8] <= s_axi_wdata[8*b +: 8];
          end
        end
        w_addr <= w_beat_addr + 8;
        w_first <= s_axi_wlast;
        w_bad <= s_axi_wlast ? 1'b0 : w_bad || !in_range(w_beat_addr);
        if (s_axi_wlast) begin
          aw_head <= aw_head + 1'b1;
          b_due[b_tail] <= now + 8;
          b_resp[b_tail] <= w_bad || !in_range(w_beat_addr) ? DECERR : OKAY;
          b_tail <= b_tail + 1'b1;
        end
      end
      aw_count <= aw_count + (s_axi_awvalid && s_axi_awready ? 1 : 0)
                  - (w_fire && s_axi_wlast ? 1 : 0);
      if (s_axi_bvalid && s_axi_bready) b_head <= b_head + 1'b1;
      b_count <= b_count + (w_fire && s_axi_wlast ? 1 : 0)
                 - (s_axi_bvalid && s_axi_bready ? 1 : 0);
      if (dump_i) $writememh("ddr_out.mem", mem, dump_lo_i, dump_hi_i);
    end
  end

endmodule

`default_nettype wire
