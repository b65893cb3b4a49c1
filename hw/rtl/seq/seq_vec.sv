// Vector unit of the layer-sequential engine: every opcode that is not LOAD, STORE or MAC
// (COPY, REQUANT, ADD, MUL, LUT, PRELU, MAXPOOL, AVGPOOL, GAVG, GWAP, CHMAX, CHMEAN), bit-exact
// with hw/gen/seq/executor.py `_vector`, SIMD contiguous channels per beat, for every image
// of the batch (slot n at n·act_image_bytes). Ports: the unit interface of seq_io and seq_mac.
//
// A beat (seq_vec_iter) is one ACT read of SIMD bytes at any alignment; its data return
// RD_LAT = 2 cycles later. Pipeline, from the issue cycle I:
//   I+2 D: lanes centred (x − zp; pads: 0 / the dtype's minimum), one 10×18-bit product per
//          lane ((a−za)·M1 | (b−zb)·M2 (ADD), (a−za)·M (REQUANT), (a−za)·(b−zb) (MUL),
//          (a−za)·w (GWAP), (a−za)·(a ≥ za ? M_pos : M_neg) (PRELU, M_neg read from the
//          parameter RAM at I+1), else ·1);
//          accumulator-RAM read (GAVG, GWAP)
//   I+3 M: accumulate (taps, channels, or the RAM row with forwarding), LUT look-up,
//          parameter-RAM read (GWAP's M, s)
//   I+4 A: requantiser (OUT_W 32: rq(acc, M, s); ADD, REQUANT and PRELU give it M = 1, and so
//          must every other op when UNIT_M: no multiplier is built), 4 cycles, + y_zp, clamp
//   I+9:   ACT write of the chunk (wr_len = its channels; one byte per pixel for CHMAX/CHMEAN).
// Beats: elementwise B·H·W·⌈C/SIMD⌉, ADD/MUL two per element (a, then b), MAXPOOL/AVGPOOL
// B·HO·WO·⌈C/SIMD⌉·KH·KW (taps innermost), CHMAX/CHMEAN B·H·W·⌈C/SIMD⌉, GAVG/GWAP
// B·(H·W·⌈C/SIMD⌉ + ⌈C/SIMD⌉) (the last ⌈C/SIMD⌉ flush the accumulator RAM through the
// requantiser), plus per instruction 1 cycle of set-up (6 for MAXPOOL/AVGPOOL: their address
// products, one shared multiplier) and 11 of pipeline drain up to done_o.
// DDR (one read command of ddr_bytes rounded up to 8, at data_base + ddr_off): LUT's 256-byte
// table (32 rows of 8 bytes, one copy per lane) and PRELU's uint16 M_neg per channel are read
// before the first beat; GWAP's C parameter words (M, s per channel) are read before image
// 0's beats and its H·W·C int8 weights (HWC, the beats' order) stream into seq_vec_wbuf while
// beats run; the weights are read again for each further image (commands of the weights only,
// issued back to back with the first, so the DMA fetches ahead and the latency shows once);
// GWAP adds 2 cycles per image (the realigner is emptied of the record's padding bytes).
// PRELU, GAVG and GWAP need C <= MAX_C (not checked at run time: the compiler must refuse).
`default_nettype none

module seq_vec #(
  parameter int unsigned SIMD  = 8,     // channels per beat (ACT read width in bytes), 4..64
  parameter int unsigned MAX_C = 1024,  // channels of PRELU/GAVG/GWAP, a multiple of SIMD
  parameter bit          UNIT_M = 1'b0, // shift-only requantiser: every M it gets must be 1
  localparam int unsigned LEN_W = $clog2(SIMD + 1)  // width of wr_len (1..SIMD)
) (
  `HCCR_UNIT_PORTS,                                 // done_o: all images done, writes landed
  input  wire  [31:0]           image_first_i,      // (LOAD/STORE only)
  input  wire  [31:0]           data_base_i,        // DDR address of the data block
  input  wire  [31:0]           input_base_i,       // (LOAD/STORE only)
  input  wire  [31:0]           input_bytes_i,
  input  wire  [31:0]           output_base_i,
  input  wire  [31:0]           output_bytes_i,

  `HCCR_ACT_PORTS(SIMD),
  `HCCR_UNIT_RD_PORTS
);

  localparam int unsigned ROWS  = MAX_C / SIMD;              // RAM rows (chunks of MAX_C)
  localparam int unsigned ROW_W = hccr_pkg::idx_w(ROWS);     // RAM row index width

  if (SIMD < 4 || SIMD > 64) begin : g_bad_simd
    $fatal(1, "seq_vec: SIMD=%0d must be in 4..64", SIMD);
  end
  if (MAX_C < SIMD || MAX_C % SIMD != 0) begin : g_bad_max_c
    $fatal(1, "seq_vec: MAX_C=%0d must be a multiple of SIMD=%0d", MAX_C, SIMD);
  end

  // ---------------------------------------------------------------- decode (instr_i is stable)
  seq_isa_pkg::opcode_e op;
  logic    is_copy, is_req, is_add, is_mul, b_lane0, is_lut, is_prelu, is_maxp, is_avgp;
  logic    is_gavg, is_gwap;
  logic    is_chmax, is_chmean, win, bin, red, chr, maxmode, summode, direct, uses_ddr;
  logic [7:0]  kh_e, kw_e;
  logic [3:0]  sh_e, sw_e, pad_t_e, pad_l_e;
  logic [31:0] ddr_words_bytes, param_bytes;

  assign op        = seq_isa_pkg::opcode_e'(instr_i.opcode);
  assign is_copy   = op == seq_isa_pkg::OP_COPY;
  assign is_req    = op == seq_isa_pkg::OP_REQUANT;
  assign is_add    = op == seq_isa_pkg::OP_ADD;
  assign is_mul    = op == seq_isa_pkg::OP_MUL;
  // MUL's b holds one value per pixel (PIXEL, or a one-channel b under CHANNEL): lane 0 of
  // its read spreads over the beat, and b does not advance with the channel chunk.
  assign b_lane0   = is_mul
                     && (instr_i.bcast == seq_isa_pkg::BCAST_PIXEL || instr_i.b_c == 16'd1);
  assign is_lut    = op == seq_isa_pkg::OP_LUT;
  assign is_prelu  = op == seq_isa_pkg::OP_PRELU;
  assign is_maxp   = op == seq_isa_pkg::OP_MAXPOOL;
  assign is_avgp   = op == seq_isa_pkg::OP_AVGPOOL;
  assign is_gavg   = op == seq_isa_pkg::OP_GAVG;
  assign is_gwap   = op == seq_isa_pkg::OP_GWAP;
  assign is_chmax  = op == seq_isa_pkg::OP_CHMAX;
  assign is_chmean = op == seq_isa_pkg::OP_CHMEAN;
  assign win       = is_maxp || is_avgp;
  assign bin       = is_add || is_mul;
  assign red       = is_gavg || is_gwap;
  assign chr       = is_chmax || is_chmean;
  assign maxmode   = is_maxp || is_chmax;
  assign summode   = is_avgp || red || is_chmean;
  assign direct    = is_copy || is_lut || maxmode;
  assign uses_ddr  = (is_lut || is_prelu || is_gwap) && instr_i.ddr_bytes != 32'd0;
  assign kh_e      = win ? instr_i.kh : 8'd1;
  assign kw_e      = win ? instr_i.kw : 8'd1;
  assign sh_e      = win ? instr_i.sh : 4'd1;
  assign sw_e      = win ? instr_i.sw : 4'd1;
  assign pad_t_e   = win ? instr_i.pad_t : 4'd0;
  assign pad_l_e   = win ? instr_i.pad_l : 4'd0;
  assign ddr_words_bytes = (instr_i.ddr_bytes + 32'd7) & ~32'd7;
  assign param_bytes     = {13'd0, instr_i.a_c, 3'b0};  // GWAP: 8 bytes per channel

  // ---------------------------------------------------------------- control
  typedef enum logic [2:0] {S_IDLE, S_INIT, S_CMD, S_PARAM, S_RUN, S_NEXT, S_DRAIN} state_e;
  state_e      state_q;
  logic [2:0]  step_q;
  logic [7:0]  batch_q;
  logic [19:0] img_q, row_stride_q, col_step_q, row_step_q, origin_q, mul_x, mul_p;
  logic [11:0] mul_y;
  logic [7:0]  cmds_q;       // read commands issued (GWAP: one per image)
  logic        tlast_q;      // the current image's command's last word has been taken
  logic [15:0] wcnt_q;       // parameter words taken
  logic [15:0] chan_q;       // parameter RAM: next channel written
  logic [5:0]  cbank_q;      //   its bank (lane) and row
  logic [ROW_W-1:0] crow_q;
  logic        take, issue, wait_w, busy_pipe;

  // iterator
  logic        it_init, it_valid, it_img_end, it_final, it_opnd, it_pad, it_first, it_last;
  logic        it_flush;
  logic [19:0] it_a, it_b, it_y;
  logic [15:0] it_k, it_len;
  // weight realigner
  logic [SIMD*8-1:0] wb_data;
  logic [15:0]       wb_count;
  logic              wb_ready, wb_push;

  assign mul_p = 20'(mul_x * {8'd0, mul_y});
  always_comb begin
    unique case (step_q)
      3'd0:    begin mul_x = 20'(instr_i.a_pitch); mul_y = instr_i.a_w;           end
      3'd1:    begin mul_x = 20'(instr_i.a_pitch); mul_y = {8'd0, sw_e};         end
      3'd2:    begin mul_x = row_stride_q;         mul_y = {8'd0, sh_e};         end
      3'd3:    begin mul_x = row_stride_q;         mul_y = {8'd0, pad_t_e};      end
      default: begin mul_x = 20'(instr_i.a_pitch); mul_y = {8'd0, pad_l_e};      end
    endcase
  end

  assign take    = s_axis_tvalid && s_axis_tready;
  assign wb_push = state_q == S_RUN && is_gwap && !tlast_q;
  assign wait_w  = is_gwap && !it_flush && wb_count < it_len;
  assign issue   = state_q == S_RUN && it_valid && !wait_w;
  assign it_init = state_q == S_INIT && (!win || step_q == 3'd5);  // products: windows only

  always_comb begin
    unique case (state_q)
      S_PARAM:        s_axis_tready = 1'b1;
      S_RUN:          s_axis_tready = wb_push && wb_ready;
      S_NEXT, S_DRAIN: s_axis_tready = is_gwap && !tlast_q;
      default:        s_axis_tready = 1'b0;
    endcase
  end

  assign stall_o = (state_q == S_PARAM && !s_axis_tvalid)
                || (state_q == S_RUN && it_valid && wait_w)
                || ((state_q == S_NEXT || state_q == S_DRAIN) && is_gwap && !tlast_q);
  // GWAP: the commands of images 1.. (weights only) follow image 0's at once, so that the DMA
  // fetches ahead and the DDR latency shows once.
  assign rd_cmd_valid_o = state_q == S_CMD
                       || (is_gwap && cmds_q < batch_q
                           && (state_q == S_PARAM || state_q == S_RUN || state_q == S_NEXT));
  assign rd_cmd_addr_o  = data_base_i + instr_i.ddr_off + (cmds_q != 8'd0 ? param_bytes : 32'd0);
  assign rd_cmd_bytes_o = ddr_words_bytes - (cmds_q != 8'd0 ? param_bytes : 32'd0);

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i) begin
      state_q <= S_IDLE;
      done_o  <= 1'b0;
    end else begin
      done_o <= 1'b0;
      unique case (state_q)
        S_IDLE:  if (start_i) state_q <= S_INIT;
        S_INIT:  if (it_init) state_q <= uses_ddr ? S_CMD : S_RUN;
        S_CMD:   if (rd_cmd_ready_i) state_q <= S_PARAM;
        S_PARAM: if (take && (is_gwap ? wcnt_q == instr_i.a_c - 16'd1 : s_axis_tlast)) begin
          state_q <= S_RUN;
        end
        S_RUN:   if (issue && it_final) begin
          state_q <= S_DRAIN;
        end else if (issue && it_img_end && is_gwap) begin
          state_q <= S_NEXT;
        end
        S_NEXT:  if (tlast_q) state_q <= S_RUN;
        S_DRAIN: if (!busy_pipe && (!is_gwap || tlast_q)) begin
          state_q <= S_IDLE;
          done_o  <= 1'b1;
        end
        default: state_q <= S_IDLE;
      endcase
    end
  end

  always_ff @(posedge clk) begin
    if (state_q == S_IDLE) begin
      step_q  <= '0;
      batch_q <= batch_i;
      img_q   <= act_image_bytes_i;
      cmds_q  <= '0;
    end
    if (state_q == S_INIT) begin
      step_q <= step_q + 3'd1;
      unique case (step_q)
        3'd0:    row_stride_q <= mul_p;
        3'd1:    col_step_q   <= mul_p;
        3'd2:    row_step_q   <= mul_p;
        3'd3:    origin_q     <= mul_p;
        3'd4:    origin_q     <= origin_q + mul_p;
        default: ;
      endcase
    end
    if (rd_cmd_valid_o && rd_cmd_ready_i) begin
      cmds_q <= cmds_q + 8'd1;
    end
    if (state_q == S_CMD || (state_q == S_NEXT && tlast_q)) begin
      tlast_q <= 1'b0;
      wcnt_q  <= '0;
      chan_q  <= '0;
      cbank_q <= '0;
      crow_q  <= '0;
    end else if (take) begin
      tlast_q <= tlast_q || s_axis_tlast;
      if (state_q == S_PARAM) begin
        wcnt_q  <= wcnt_q + 16'd1;
        chan_q  <= chan_q + (is_prelu ? 16'd4 : 16'd1);
        if (32'(cbank_q) + (is_prelu ? 32'd4 : 32'd1) >= SIMD) begin
          cbank_q <= 6'(32'(cbank_q) + (is_prelu ? 32'd4 : 32'd1) - SIMD);
          crow_q  <= crow_q + ROW_W'(1);
        end else begin
          cbank_q <= cbank_q + (is_prelu ? 6'd4 : 6'd1);
        end
      end
    end
  end

  seq_vec_iter #(.SIMD(SIMD)) u_iter (
    .clk, .rst_n,
    .init_i      (it_init),
    .adv_i       (issue),
    .win_i       (win),
    .bin_i       (bin),
    .red_i       (red),
    .ch_i        (chr),
    .b_chunk_i   (!b_lane0),
    .kh_i        (kh_e),
    .kw_i        (kw_e),
    .ph_i        (win ? instr_i.y_h : instr_i.a_h),
    .pw_i        (win ? instr_i.y_w : instr_i.a_w),
    .ah_i        (instr_i.a_h),
    .aw_i        (instr_i.a_w),
    .c_i         (instr_i.a_c),
    .batch_i     (batch_q),
    .sh_i        (sh_e),
    .sw_i        (sw_e),
    .pad_t_i     (pad_t_e),
    .pad_l_i     (pad_l_e),
    .a_base_i    (instr_i.a_base),
    .b_base_i    (instr_i.b_base),
    .y_base_i    (instr_i.y_base),
    .img_i       (img_q),
    .a_pitch_i   (20'(instr_i.a_pitch)),
    .b_step_i    (instr_i.bcast == seq_isa_pkg::BCAST_CHANNEL ? 20'd0 : 20'(instr_i.b_pitch)),
    .y_step_i    (red ? 20'd0 : 20'(instr_i.y_pitch)),
    .row_stride_i(row_stride_q),
    .col_step_i  (win ? col_step_q : 20'(instr_i.a_pitch)),
    .row_step_i  (row_step_q),
    .origin_i    (win ? origin_q : 20'd0),
    .valid_o     (it_valid),
    .img_end_o   (it_img_end),
    .final_o     (it_final),
    .a_addr_o    (it_a),
    .b_addr_o    (it_b),
    .y_addr_o    (it_y),
    .opnd_o      (it_opnd),
    .pad_o       (it_pad),
    .first_o     (it_first),
    .last_o      (it_last),
    .flush_o     (it_flush),
    .k_o         (it_k),
    .len_o       (it_len)
  );

  seq_vec_wbuf #(.SIMD(SIMD)) u_wbuf (
    .clk, .rst_n,
    .clear_i   (state_q == S_CMD || state_q == S_NEXT),
    .in_data_i (s_axis_tdata),
    .in_valid_i(s_axis_tvalid && wb_push),
    .in_ready_o(wb_ready),
    .pop_i     (issue && is_gwap && !it_flush),
    .pop_len_i (it_len),
    .data_o    (wb_data),
    .count_o   (wb_count)
  );

  assign act_rd_valid_o = issue && !it_pad && !it_flush;
  assign act_rd_addr_o  = it_opnd ? it_b : it_a;

  // ---------------------------------------------------------------- tags, I -> D
  typedef struct packed {
    logic             valid;
    logic             opnd;
    logic             pad;
    logic             first;
    logic             last;
    logic             flush;
    logic [ROW_W-1:0] k;
    logic [15:0]      len;
    logic [19:0]      yaddr;
    logic [SIMD*8-1:0] w;
  } tag_t;

  tag_t tag_i, tag_q0, tag_q1, tag_d, tag_m;

  always_comb begin
    tag_i.valid = issue;
    tag_i.opnd  = it_opnd;
    tag_i.pad   = it_pad;
    tag_i.first = it_first;
    tag_i.last  = it_last;
    tag_i.flush = it_flush;
    tag_i.k     = ROW_W'(it_k);
    tag_i.len   = it_len;
    tag_i.yaddr = it_y;
    tag_i.w     = wb_data;
  end
  always_ff @(posedge clk) begin
    if (!rst_n || abort_i) begin
      tag_q0.valid <= 1'b0;
      tag_q1.valid <= 1'b0;
      tag_m.valid    <= 1'b0;
    end else begin
      tag_q0 <= tag_i;
      tag_q1 <= tag_q0;
      tag_m    <= tag_d;
    end
  end
  assign tag_d = tag_q1;

  // ---------------------------------------------------------------- D: centre and multiply
  logic signed [9:0]  val_d [SIMD], u_d [SIMD], ua_q [SIMD], mx [SIMD];
  logic signed [17:0] my [SIMD];
  logic signed [27:0] prod_q [SIMD], proda_q [SIMD];
  logic signed [9:0]  val_q [SIMD];
  logic [15:0]        mneg_d [SIMD];  // PRELU: M_neg of the lane's channel, read at I+1
  logic               sgn_d;
  logic signed [9:0]  zp_d, min_d;

  assign sgn_d = tag_d.opnd ? instr_i.b_signed : instr_i.a_signed;
  assign zp_d  = tag_d.opnd ? 10'(instr_i.b_zp) : 10'(instr_i.a_zp);
  assign min_d = instr_i.a_signed ? -10'sd128 : 10'sd0;

  for (genvar l = 0; l < SIMD; l++) begin : g_d
    logic [7:0] raw;
    assign raw = (b_lane0 && tag_d.opnd)
               ? act_rd_data_i[7:0] : act_rd_data_i[l*8 +: 8];
    assign val_d[l] = tag_d.pad ? min_d
                    : sgn_d ? 10'($signed(raw)) : $signed({2'b0, raw});
    assign u_d[l]   = tag_d.pad ? 10'sd0 : val_d[l] - zp_d;
    always_comb begin
      mx[l] = u_d[l];
      my[l] = 18'sd1;
      if (is_add || is_req) begin  // their M here: the requantiser gets M = 1
        my[l] = $signed({2'b0, tag_d.opnd ? instr_i.mult2 : instr_i.mult});
      end else if (is_mul) begin
        mx[l] = ua_q[l];
        my[l] = 18'(u_d[l]);
      end else if (is_gwap) begin
        my[l] = 18'($signed(tag_d.w[l*8 +: 8]));
      end else if (is_prelu) begin  // its M here too: the requantiser gets M = 1
        my[l] = $signed({2'b0, u_d[l] < 0 ? mneg_d[l] : instr_i.mult});
      end
    end
    always_ff @(posedge clk) begin
      if (tag_d.valid) begin
        prod_q[l] <= 28'(mx[l]) * 28'(my[l]);
        val_q[l]  <= val_d[l];
        if (!tag_d.opnd) begin
          ua_q[l] <= u_d[l];
        end
      end
    end
  end

  // ---------------------------------------------------------------- M: accumulate
  logic signed [31:0] acc_m [SIMD], racc_q [SIMD], last_q [SIMD], ram_q [SIMD];
  logic signed [31:0] chsum, chmax;
  logic [7:0]         dir_m [SIMD];
  logic               fwd_q, out_m;
  logic [21:0]        prm_q [SIMD];

  assign out_m = tag_m.valid && tag_m.last;

  // CHMAX / CHMEAN over the beat's len lanes: balanced trees, level k holding 2^(LEVELS − k)
  // sums or maxima of the level below (level 0: the lanes, padded to a power of two), so the
  // path is ⌈log2 SIMD⌉ adders or comparators deep, not a chain through every lane. A lane
  // past len (or past SIMD) enters as 0 (sum) or −512 (below any value).
  localparam int unsigned LEVELS = $clog2(SIMD);
  for (genvar k = 0; k <= LEVELS; k++) begin : g_tree
    logic signed [31:0] sum [1 << (LEVELS - k)], max [1 << (LEVELS - k)];
    for (genvar i = 0; i < (1 << (LEVELS - k)); i++) begin : g_node
      if (k == 0) begin : g_lane
        logic in;
        assign in = i < SIMD && 16'(i) < tag_m.len;
        assign sum[i] = in ? 32'(prod_q[i % SIMD]) : 32'sd0;
        assign max[i] = in ? 32'(val_q[i % SIMD]) : -32'sd512;
      end else begin : g_pair
        assign sum[i] = g_tree[k - 1].sum[2*i] + g_tree[k - 1].sum[2*i + 1];
        assign max[i] = g_tree[k - 1].max[2*i] > g_tree[k - 1].max[2*i + 1]
                      ? g_tree[k - 1].max[2*i] : g_tree[k - 1].max[2*i + 1];
      end
    end
  end
  assign chsum = g_tree[LEVELS].sum[0];
  assign chmax = g_tree[LEVELS].max[0];

  for (genvar l = 0; l < SIMD; l++) begin : g_m
    logic signed [31:0] c, v, base;
    logic [63:0]        lut_row;
    logic [7:0]         idx;
    logic [63:0]        lut_mem [32];
    logic signed [31:0] acc_mem [ROWS];
    logic [21:0]        prm_mem [ROWS];
    logic [5:0]         wi;   // parameter word field written into this bank (PRELU: 0..3)
    logic               we;

    assign c = tag_m.flush ? 32'sd0
             : (chr && l == 0) ? chsum
             : 32'(prod_q[l]) + (is_add ? 32'(proda_q[l]) : 32'sd0);
    assign v = (chr && l == 0) ? chmax : 32'(val_q[l]);
    assign base = tag_m.first ? 32'sd0 : red ? (fwd_q ? last_q[l] : ram_q[l]) : racc_q[l];
    assign idx = val_q[l][7:0] ^ {instr_i.a_signed, 7'd0};
    assign lut_row = lut_mem[idx[7:3]];
    always_comb begin
      if (maxmode) begin
        acc_m[l] = (tag_m.first || v > racc_q[l]) ? v : racc_q[l];
      end else if (summode) begin
        acc_m[l] = base + c;
      end else begin
        acc_m[l] = c;
      end
      dir_m[l] = is_copy ? val_q[l][7:0] : is_lut ? lut_row[{idx[2:0], 3'b0} +: 8]
               : acc_m[l][7:0];
    end

    // parameter words: bank l takes field wi of a word (GWAP: one channel, PRELU: four)
    assign wi = 32'(l) >= 32'(cbank_q) ? 6'(32'(l) - 32'(cbank_q))
                                       : 6'(32'(l) + SIMD - 32'(cbank_q));
    assign we = state_q == S_PARAM && take && (is_prelu ? wi < 6'd4 : (is_gwap && wi == 6'd0))
             && chan_q + 16'(wi) < instr_i.a_c;

    always_ff @(posedge clk) begin
      if (state_q == S_PARAM && take && is_lut) begin
        lut_mem[wcnt_q[4:0]] <= s_axis_tdata;
      end
      if (we) begin
        prm_mem[crow_q + ROW_W'(32'(cbank_q) + 32'(wi) >= SIMD)] <= is_prelu
            ? {6'd0, 16'(s_axis_tdata >> {wi[1:0], 4'd0})} : s_axis_tdata[53:32];
      end
      if (tag_m.valid) begin
        prm_q[l] <= prm_mem[tag_m.k];
      end
      if (tag_q0.valid) begin
        mneg_d[l] <= prm_mem[tag_q0.k][15:0];
      end
      if (tag_m.valid && red) begin
        acc_mem[tag_m.k] <= acc_m[l];
      end
      if (tag_d.valid && red) begin
        ram_q[l] <= acc_mem[tag_d.k];
      end
      if (tag_m.valid) begin
        racc_q[l] <= acc_m[l];
        last_q[l] <= acc_m[l];
        if (!tag_m.opnd) begin
          proda_q[l] <= prod_q[l];
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    fwd_q <= tag_m.valid && tag_d.valid && red && tag_m.k == tag_d.k;
  end

  // ---------------------------------------------------------------- A: requantise
  logic               valid_a;
  logic [SIMD*32-1:0] acc_a;
  logic [SIMD*8-1:0]  dir_a;
  logic [19:0]        yaddr_a;
  logic [LEN_W-1:0]   len_a;
  logic [SIMD*16-1:0] mult_a;
  logic [SIMD*6-1:0]  shift_a;

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i) begin
      valid_a <= 1'b0;
    end else begin
      valid_a <= out_m;
    end
  end

  always_ff @(posedge clk) begin
    if (out_m) begin
      for (int l = 0; l < SIMD; l++) begin
        acc_a[l*32 +: 32] <= acc_m[l];
        dir_a[l*8 +: 8]   <= dir_m[l];
      end
      yaddr_a <= tag_m.yaddr;
      len_a   <= chr ? LEN_W'(1) : LEN_W'(tag_m.len);
    end
  end

  always_comb begin
    for (int l = 0; l < SIMD; l++) begin
      mult_a[l*16 +: 16] = is_add || is_req || is_prelu ? 16'd1
                         : is_gwap ? prm_q[l][15:0] : instr_i.mult;
      shift_a[l*6 +: 6]  = is_gwap ? prm_q[l][21:16] : instr_i.shift;
    end
  end

  logic               valid_r;
  logic [SIMD*8+20+LEN_W-1:0] user_r;
  logic [SIMD*32-1:0] rq_r;
  logic [SIMD*8-1:0]  dir_r;
  logic [19:0]        yaddr_r;
  logic [LEN_W-1:0]   len_r;
  logic [3:0]         rq_busy_q;  // valids inside the requantiser (its 4 stages)

  requantiser #(
    .LANES (SIMD),
    .ACC_W (32),
    .OUT_W (32),
    .OUT_SIGNED(1'b1),
    .OUT_ZP(0),
    .RELU  (1'b0),
    .USER_W(SIMD * 8 + 20 + LEN_W),
    .UNIT_M(UNIT_M)
  ) u_rq (
    .clk, .rst_n,
    .valid_i(valid_a && !abort_i),
    .acc_i  (acc_a),
    .mult_i (mult_a),
    .shift_i(shift_a),
    .user_i ({dir_a, yaddr_a, len_a}),
    .valid_o(valid_r),
    .y_o    (rq_r),
    .user_o (user_r)
  );
  assign {dir_r, yaddr_r, len_r} = user_r;

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i) begin
      rq_busy_q <= '0;
    end else begin
      rq_busy_q <= {rq_busy_q[2:0], valid_a};
    end
  end

  // ---------------------------------------------------------------- write: + y_zp, clamp
  logic signed [33:0] lo, hi;
  assign hi = instr_i.y_signed ? 34'sd127 : 34'sd255;
  assign lo = instr_i.relu ? 34'(instr_i.y_zp) : instr_i.y_signed ? -34'sd128 : 34'sd0;

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i) begin
      act_wr_valid_o <= 1'b0;
    end else begin
      act_wr_valid_o <= valid_r;
    end
  end

  always_ff @(posedge clk) begin
    if (valid_r) begin
      act_wr_addr_o <= yaddr_r;
      act_wr_len_o  <= len_r;
      for (int l = 0; l < SIMD; l++) begin
        logic signed [33:0] y;
        y = 34'($signed(rq_r[l*32 +: 32])) + 34'(instr_i.y_zp);
        act_wr_data_o[l*8 +: 8] <= direct ? dir_r[l*8 +: 8]
                                 : y < lo ? 8'(lo) : y > hi ? 8'(hi) : 8'(y);
      end
    end
  end

  // in flight between issue and the ACT write
  assign busy_pipe = tag_q0.valid || tag_q1.valid || tag_m.valid || valid_a
                  || rq_busy_q != '0 || act_wr_valid_o;

  logic unused;
  assign unused = ^{act_rd_valid_i, image_first_i, input_base_i, input_bytes_i, output_base_i,
                    output_bytes_i, instr_i, tag_m.pad, tag_m.w, it_k,
                    // package constants of the other units
                    seq_isa_pkg::RECORD_BITS, seq_isa_pkg::MAGIC, seq_isa_pkg::VERSION};

endmodule

`default_nettype wire
