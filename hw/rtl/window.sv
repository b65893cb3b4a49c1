// Sliding-window unit: line buffer + window sequencer shared by conv2d and maxpool.
//
// Input: one element per beat, HWC order (channels fastest), images back to back; tlast is
// not needed (an image is H*W*C beats). Elements are packed SIMD per word (channels
// c..c+SIMD-1 of one pixel) into a circular buffer of ROWS = KH + SH image rows, so the next
// SH rows arrive while the current KH rows are read.
//
// Output (no backpressure, one word per cycle): for each output pixel (oy, ox), for each of
// OUTER groups, for each tap (ky, kx), for each of INNER words: the SIMD elements at input
// row oy*SH - PT + ky, column ox*SW - PL + kx, channel word (CH_FROM_OUTER ? group : inner).
// Taps in the padding read as PAD_VALUE. conv2d uses OUTER = OC/PE (weights change per group,
// INNER = C/SIMD); maxpool uses OUTER = C/SIMD, INNER = 1.
//
// A group starts only when its rows are in the buffer and a credit is free: the consumer
// holds at most CREDITS groups (its FIFO depth) and returns one with credit_i as each group's
// result leaves it, so nothing after this unit ever needs to stall it.
`default_nettype none

module window #(
  `HCCR_HWC_PARAMS,
  `HCCR_WINDOW_PARAMS,
  parameter int unsigned SIMD = 1,       // channels per word, divides C
  parameter int unsigned OUTER = 1,      // groups per output pixel
  parameter int unsigned INNER = 1,      // words per tap within a group
  parameter bit          CH_FROM_OUTER = 1'b0,  // channel word = group (1) or inner (0) index
  parameter logic [7:0]  PAD_VALUE = 8'd0,      // element read for a padded tap
  parameter int unsigned CREDITS = 16    // groups the consumer can hold
) (
  input  wire                 clk,
  input  wire                 rst_n,          // synchronous, active low

  input  wire  [7:0]          s_axis_tdata,
  input  wire                 s_axis_tvalid,
  output logic                s_axis_tready,

  output logic                valid_o,        // a window word this cycle
  output logic [SIMD*8-1:0]   data_o,         // element s at [s*8 +: 8]
  output logic                first_o,        // first word of a group
  output logic                last_o,         // last word of a group
  output logic [$clog2(OUTER+1)-1:0] group_o, // group index
  output logic                img_last_o,     // the group is the image's last
  input  wire                 credit_i        // one group's result has left the consumer
);

  localparam int unsigned CW        = C / SIMD;                     // words per pixel
  localparam int unsigned ROW_WORDS = W * CW;                       // words per row
  localparam int unsigned ROWS      = KH + SH;                      // rows buffered
  localparam int unsigned DEPTH     = ROWS * ROW_WORDS;             // buffer words
  localparam int unsigned HO        = (H + PT + PB - KH) / SH + 1;  // output height
  localparam int unsigned WO        = (W + PL + PR - KW) / SW + 1;  // output width
  localparam int unsigned AW        = $clog2(DEPTH);                // buffer address bits
  localparam int unsigned SLW       = $clog2(ROWS + 1);             // slot (+ carry) bits
  localparam int unsigned RW        = $clog2(H + ROWS + 1);         // row count bits
  localparam int unsigned YW        = $clog2(H + KH + SH + PT + 1) + 1;  // signed row index
  localparam int unsigned XW        = $clog2(W + KW + SW + PL + 1) + 1;  // signed column
  localparam int unsigned LW        = $clog2(SIMD + 1);             // lane counter bits
  localparam int unsigned WW        = $clog2(ROW_WORDS + 1);        // word-in-row bits
  localparam int unsigned GW        = $clog2(OUTER + 1);            // group bits
  localparam int unsigned IW        = $clog2(INNER + 1);            // inner bits
  localparam int unsigned KYW       = $clog2(KH + 1);
  localparam int unsigned KXW       = $clog2(KW + 1);
  localparam int unsigned OYW       = $clog2(HO + 1);
  localparam int unsigned OXW       = $clog2(WO + 1);
  localparam int unsigned CRW       = $clog2(CREDITS + 1);
  localparam int unsigned H_MOD     = H % ROWS;                     // image advance, in slots
  localparam int unsigned SH_MOD    = SH % ROWS;

  if (SIMD < 1 || C % SIMD != 0) begin : g_bad_simd
    $fatal(1, "window: SIMD=%0d must divide C=%0d", SIMD, C);
  end
  if (H < 1 || W < 1 || KH < 1 || KW < 1 || SH < 1 || SW < 1) begin : g_bad_shape
    $fatal(1, "window: H, W, KH, KW, SH, SW must be >= 1");
  end
  if (PT >= KH || PB >= KH || PL >= KW || PR >= KW) begin : g_bad_pad
    $fatal(1, "window: padding [%0d %0d %0d %0d] must be smaller than the kernel %0dx%0d", PT,
           PB, PL, PR, KH, KW);
  end
  if (H + PT + PB < KH || W + PL + PR < KW) begin : g_bad_kernel
    $fatal(1, "window: kernel %0dx%0d larger than the padded input", KH, KW);
  end
  if (OUTER < 1 || INNER < 1 || (CH_FROM_OUTER ? OUTER : INNER) != CW) begin : g_bad_loop
    $fatal(1, "window: OUTER=%0d INNER=%0d do not cover C/SIMD=%0d words", OUTER, INNER, CW);
  end
  if (CREDITS < 1) begin : g_bad_credits
    $fatal(1, "window: CREDITS must be >= 1");
  end

  // ---------------------------------------------------------------- line buffer (writer)
  logic [SIMD*8-1:0] lb_q [DEPTH];
  logic [SIMD*8-1:0] pack_q, word;
  logic [AW-1:0]     wr_addr_q;
  logic [LW-1:0]     wr_lane_q;
  logic [WW-1:0]     wr_word_q;            // word within the row being written
  logic [SLW-1:0]    ready_q;              // complete rows not yet freed
  logic              accept, word_done, row_done, free_row;

  assign s_axis_tready = !(wr_lane_q == '0 && wr_word_q == '0 && ready_q == SLW'(ROWS));
  assign accept    = s_axis_tvalid && s_axis_tready;
  assign word_done = accept && wr_lane_q == LW'(SIMD - 1);
  assign row_done  = word_done && wr_word_q == WW'(ROW_WORDS - 1);

  always_comb begin
    word = pack_q;
    word[wr_lane_q*8 +: 8] = s_axis_tdata;
  end

  always_ff @(posedge clk) begin
    if (accept) begin
      pack_q <= word;
    end
    if (word_done) begin
      lb_q[wr_addr_q] <= word;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr_addr_q <= '0;
      wr_lane_q <= '0;
      wr_word_q <= '0;
      ready_q   <= '0;
    end else begin
      if (accept) begin
        wr_lane_q <= word_done ? '0 : wr_lane_q + 1'b1;
      end
      if (word_done) begin
        wr_addr_q <= wr_addr_q == AW'(DEPTH - 1) ? '0 : wr_addr_q + 1'b1;
        wr_word_q <= row_done ? '0 : wr_word_q + 1'b1;
      end
      ready_q <= ready_q + SLW'(row_done) - SLW'(free_row);
    end
  end

  // ---------------------------------------------------------------- window sequencer (reader)
  logic              drain_q;                // all groups of the image issued; freeing its rows
  logic [OYW-1:0]    oy_q;
  logic [OXW-1:0]    ox_q;
  logic [GW-1:0]     g_q;
  logic [KYW-1:0]    ky_q;
  logic [KXW-1:0]    kx_q;
  logic [IW-1:0]     in_q;
  logic signed [YW-1:0] top_q;               // oy*SH - PT
  logic signed [XW-1:0] left_q;              // ox*SW - PL
  logic [SLW-1:0]    top_slot_q;             // buffer slot of row top_q (mod ROWS)
  logic [SLW-1:0]    base_q;                 // buffer slot of the image's row 0
  logic [RW-1:0]     freed_q;                // rows of this image freed
  logic [CRW-1:0]    credits_q;              // groups in flight

  logic group_start, group_end, pixel_end, row_end, image_end, rows_ok, issue;
  logic signed [YW:0] need, free_goal;

  // Rows 0..need-1 of the image must be complete; rows below free_goal are no longer needed.
  always_comb begin
    need = (YW+1)'(top_q) + $signed((YW+1)'(KH));
    if (need > $signed((YW+1)'(H))) need = $signed((YW+1)'(H));
    free_goal = drain_q ? (YW+1)'(H) : (top_q < 0 ? '0 : (YW+1)'(top_q));
  end

  assign rows_ok     = $signed({1'b0, (YW)'(freed_q) + (YW)'(ready_q)}) >= need;
  assign group_start = ky_q == '0 && kx_q == '0 && in_q == '0;
  assign group_end   = ky_q == KYW'(KH - 1) && kx_q == KXW'(KW - 1) && in_q == IW'(INNER - 1);
  assign pixel_end   = group_end && g_q == GW'(OUTER - 1);
  assign row_end     = pixel_end && ox_q == OXW'(WO - 1);
  assign image_end   = row_end && oy_q == OYW'(HO - 1);
  assign issue       = !drain_q && (!group_start || (rows_ok && credits_q < CRW'(CREDITS)));
  assign free_row    = (YW+1)'(freed_q) < free_goal && ready_q != '0;

  function automatic logic [SLW-1:0] slot_add(input logic [SLW-1:0] a, input logic [SLW-1:0] b);
    logic [SLW:0] s;
    s = {1'b0, a} + {1'b0, b};
    if (s >= (SLW+1)'(ROWS)) begin
      s = s - (SLW+1)'(ROWS);
    end
    slot_add = SLW'(s);
  endfunction

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      drain_q    <= 1'b0;
      {oy_q, ox_q, g_q, ky_q, kx_q, in_q} <= '0;
      top_q      <= -(YW)'(PT);
      left_q     <= -(XW)'(PL);
      top_slot_q <= slot_add('0, SLW'(ROWS - PT));
      base_q     <= '0;
      freed_q    <= '0;
      credits_q  <= '0;
    end else begin
      credits_q <= credits_q + CRW'(issue && group_start) - CRW'(credit_i);
      if (free_row) freed_q <= freed_q + 1'b1;
      if (drain_q) begin
        if (freed_q == RW'(H)) begin      // the whole image is freed: start the next one
          drain_q    <= 1'b0;
          freed_q    <= '0;
          base_q     <= slot_add(base_q, SLW'(H_MOD));
          top_slot_q <= slot_add(slot_add(base_q, SLW'(H_MOD)), SLW'(ROWS - PT));
        end
      end else if (issue) begin
        in_q <= in_q == IW'(INNER - 1) ? '0 : in_q + 1'b1;
        if (in_q == IW'(INNER - 1)) begin
          kx_q <= kx_q == KXW'(KW - 1) ? '0 : kx_q + 1'b1;
          if (kx_q == KXW'(KW - 1)) begin
            ky_q <= ky_q == KYW'(KH - 1) ? '0 : ky_q + 1'b1;
          end
        end
        if (group_end) begin
          g_q <= pixel_end ? '0 : g_q + 1'b1;
        end
        if (pixel_end) begin
          ox_q   <= row_end ? '0 : ox_q + 1'b1;
          left_q <= row_end ? -(XW)'(PL) : left_q + XW'(SW);
        end
        if (row_end) begin
          oy_q       <= image_end ? '0 : oy_q + 1'b1;
          top_q      <= image_end ? -(YW)'(PT) : top_q + YW'(SH);
          top_slot_q <= slot_add(top_slot_q, SLW'(SH_MOD));
        end
        if (image_end) begin
          drain_q <= 1'b1;
        end
      end
    end
  end

  // Address of this cycle's word; a padded tap reads address 0 and is replaced below.
  logic signed [YW:0] iy;
  logic signed [XW:0] ix;
  logic [SLW-1:0]     slot;
  logic               pad;
  logic [AW-1:0]      rd_addr;
  logic [IW+GW-1:0]   chw;

  always_comb begin
    iy   = (YW+1)'(top_q) + $signed((YW+1)'(ky_q));
    ix   = (XW+1)'(left_q) + $signed((XW+1)'(kx_q));
    slot = slot_add(top_slot_q, SLW'(ky_q));
    pad  = iy < 0 || iy >= $signed((YW+1)'(H)) || ix < 0 || ix >= $signed((XW+1)'(W));
    chw  = CH_FROM_OUTER ? (IW+GW)'(g_q) : (IW+GW)'(in_q);
    rd_addr = pad ? '0 : AW'(slot * ROW_WORDS + (AW+XW)'(ix) * CW + (AW+IW+GW)'(chw));
  end

  // ---------------------------------------------------------------- output stage
  logic [SIMD*8-1:0] rd_q;
  logic              valid_q, pad_q, first_q, last_q, img_last_q;
  logic [GW-1:0]     group_q;

  always_ff @(posedge clk) begin
    rd_q       <= lb_q[rd_addr];
    pad_q      <= pad;
    first_q    <= group_start;
    last_q     <= group_end;
    group_q    <= g_q;
    img_last_q <= oy_q == OYW'(HO - 1) && ox_q == OXW'(WO - 1) && g_q == GW'(OUTER - 1);
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      valid_q <= 1'b0;
    end else begin
      valid_q <= issue;
    end
  end

  assign valid_o    = valid_q;
  assign data_o     = pad_q ? {SIMD{PAD_VALUE}} : rd_q;
  assign first_o    = first_q;
  assign last_o     = last_q;
  assign group_o    = group_q;
  assign img_last_o = img_last_q;

endmodule

`default_nettype wire
