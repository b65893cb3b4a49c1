// Soak FIFO (simulation only): fifo.sv wrapped with random stalls on both sides and counters.
//
// tests/fuzz/soak.py appends this module to a generated network top and instantiates it in
// place of every top-level `fifo` (the FIFO in front of each engine input), so that every
// engine's input sees random idle cycles (tvalid withheld; once offered, a beat is held until
// taken) and every engine's output, through the forks, random backpressure (tready low).
// "soak_cfg.mem" holds two words read at start-up: stalls on (0/1), and the push (1-based) at
// which to drop one beat (0: never; a planted fault for the negative test). Each instance
// draws its own stall probabilities (1/16, 3/16, 3/8 or 5/8 per side) and, at the end of the
// simulation, appends "<instance> <pushed beats> <pushed tlasts> <popped beats> <popped tlasts>
// <protocol violations> <input stalls> <output stalls>" to "soak_counts.txt" (stalls: cycles
// a beat was offered or held and the stall withheld it); a violation is a producer that changes or
// withdraws a beat it offered before the FIFO took it.
`default_nettype none

/* verilator lint_off DECLFILENAME */  // appended to the network top's file
module soak_fifo #(
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

  localparam logic [7:0] LEVELS [4] = '{8'd16, 8'd48, 8'd96, 8'd160};  // stall odds, of 256

  logic            f_s_tvalid, f_s_tready, f_m_tvalid, f_m_tready, push, pop, drop;
  logic            go_in_q, go_out_q, held_q, pending_q;
  logic [DATA_W:0] offered_q;
  logic [31:0]     cfg [2];
  logic [7:0]      p_in, p_out;
  int              fd;
  longint unsigned push_beats_q, push_lasts_q, pop_beats_q, pop_lasts_q, violations_q;
  longint unsigned in_stalls_q, out_stalls_q;

  initial begin
    cfg[0] = 32'd0;
    cfg[1] = 32'd0;
    $readmemh("soak_cfg.mem", cfg);
    p_in = cfg[0] != 0 ? LEVELS[$urandom % 4] : 8'd0;
    p_out = cfg[0] != 0 ? LEVELS[$urandom % 4] : 8'd0;
  end

  // The stalls gate fifo.sv's handshakes; a planted drop takes a beat the FIFO never stores.
  assign s_axis_tready = f_s_tready && go_in_q;
  assign push = s_axis_tvalid && s_axis_tready;
  assign drop = cfg[1] != 0 && push_beats_q + 1 == 64'(cfg[1]);
  assign f_s_tvalid = push && !drop;
  assign m_axis_tvalid = f_m_tvalid && (held_q || go_out_q);
  assign f_m_tready = m_axis_tready && (held_q || go_out_q);
  assign pop = m_axis_tvalid && m_axis_tready;

  fifo #(.DATA_W(DATA_W), .DEPTH(DEPTH)) u_fifo (
    .clk, .rst_n,
    .s_axis_tdata, .s_axis_tvalid(f_s_tvalid), .s_axis_tready(f_s_tready), .s_axis_tlast,
    .m_axis_tdata, .m_axis_tvalid(f_m_tvalid), .m_axis_tready(f_m_tready), .m_axis_tlast
  );

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      go_in_q <= 1'b0;
      go_out_q <= 1'b0;
      held_q <= 1'b0;
      pending_q <= 1'b0;
      push_beats_q <= '0;
      push_lasts_q <= '0;
      pop_beats_q <= '0;
      pop_lasts_q <= '0;
      violations_q <= '0;
      in_stalls_q <= '0;
      out_stalls_q <= '0;
    end else begin
      go_in_q <= 8'($urandom) >= p_in;
      go_out_q <= 8'($urandom) >= p_out;
      held_q <= m_axis_tvalid && !m_axis_tready;
      pending_q <= s_axis_tvalid && !s_axis_tready;
      offered_q <= {s_axis_tlast, s_axis_tdata};
      if (pending_q && (!s_axis_tvalid || {s_axis_tlast, s_axis_tdata} != offered_q)) begin
        violations_q <= violations_q + 1;
      end
      if (s_axis_tvalid && !go_in_q) in_stalls_q <= in_stalls_q + 1;
      if (f_m_tvalid && !held_q && !go_out_q) out_stalls_q <= out_stalls_q + 1;
      if (push) begin
        push_beats_q <= push_beats_q + 1;
        push_lasts_q <= push_lasts_q + 64'(s_axis_tlast);
      end
      if (pop) begin
        pop_beats_q <= pop_beats_q + 1;
        pop_lasts_q <= pop_lasts_q + 64'(m_axis_tlast);
      end
    end
  end

  final begin
    fd = $fopen("soak_counts.txt", "a");
    $fwrite(fd, "%m %0d %0d %0d %0d %0d %0d %0d\n", push_beats_q, push_lasts_q, pop_beats_q,
            pop_lasts_q, violations_q, in_stalls_q, out_stalls_q);
    $fclose(fd);
  end

endmodule

`default_nettype wire
