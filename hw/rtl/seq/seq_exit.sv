// Early-exit unit of the layer-sequential engine: the EXIT instruction (docs/early_exit.md,
// hw/gen/seq/exits.py), bit-exact with hw/gen/seq/executor.py `_exit`.
//
// On start_i: the EXIT of point 0 clears the batch's done mask. The exit table (ddr_bytes at
// data_base + ddr_off: word 0 = T, len_a, len_b; then the uint32 LUT entries, LUT a then
// LUT b, two per word) is read into a 256 × 64-bit RAM. Then for each image n of the batch
// not yet done (slot at n·act_image_bytes), one logit per cycle (an ACT read of which lane 0
// is used, RD_LAT = 2), in passes over the K = a_c logits of a (then the b_c = K of b when
// averaging):
//   MAX:   max and first argmax of a (and max of b);
//   SUM:   S = Σ LUT[max − x] (0 when max − x ≥ len) for a (and b);
//   SCORE: (averaging only) a and b interleaved: first argmax of E^a_j·S_b + E^b_j·S_a
//          (one 32×32 multiplier, 64-bit sums);
// each pass costs its elements + 6 cycles of pipeline drain. When S_a ≤ T the image leaves:
// its 4-byte record (class low, class high, point, 1) is written at y_base, its done bit set,
// and exit_o pulses with exit_point_o. done_o pulses at the end; jump_o (level) says every
// image of the batch is done, so the controller continues at the EXIT's `next`.
`default_nettype none

module seq_exit #(
  parameter int unsigned SIMD = 8,  // ACT read/write width in bytes, at least 4
  localparam int unsigned LEN_W = $clog2(SIMD + 1)  // width of wr_len (1..SIMD)
) (
  `HCCR_UNIT_PORTS,                                 // done_o: every image evaluated
  input  wire  [31:0]           data_base_i,        // DDR address of the data block
  output logic                  jump_o,             // every image of the batch is done
  output logic                  exit_o,             // pulse: an image left here
  output logic [7:0]            exit_point_o,       // at this exit point

  `HCCR_ACT_PORTS(SIMD),
  `HCCR_UNIT_RD_PORTS
);

  localparam int unsigned DRAIN = 6;  // cycles after a pass's last read until its last sum

  if (SIMD < 4) begin : g_bad_simd
    $fatal(1, "seq_exit: SIMD=%0d must be at least 4 (the 4-byte result record)", SIMD);
  end

  typedef enum logic [2:0] {S_IDLE, S_CMD, S_TABLE, S_IMAGE, S_PASS, S_DECIDE} state_e;
  typedef enum logic [1:0] {P_MAX, P_SUM, P_SCORE} pass_e;

  state_e      state_q;
  pass_e       pass_q;
  logic [255:0] mask_q;          // images of the batch that have left
  logic [8:0]  left_q;           // images of the batch not yet done
  logic [8:0]  wcnt_q;           // table words taken
  logic [31:0] thr_q;
  logic [15:0] len_a_q, len_b_q;
  logic [7:0]  img_q;
  logic [19:0] base_q;
  logic [16:0] idx_q;            // element of the pass
  logic [2:0]  drain_q;
  logic        avg;
  logic [16:0] k, elems;

  assign avg   = instr_i.b_c != 16'd0;
  assign k     = {1'b0, instr_i.a_c};
  assign elems = pass_q == P_MAX || pass_q == P_SUM ? (avg ? k << 1 : k) : k << 1;

  // ---------------------------------------------------------------- the table RAM
  logic [63:0] lut_q [256];
  logic [63:0] lut_rd_q;

  // ---------------------------------------------------------------- element pipeline
  // issue: which tensor (0 a, 1 b) and class index of element idx_q
  logic        i_which;
  logic [15:0] i_j;
  always_comb begin
    if (pass_q == P_SCORE) begin
      i_which = idx_q[0];
      i_j     = idx_q[16:1];
    end else begin
      i_which = avg && idx_q >= k;
      i_j     = i_which ? 16'(idx_q - k) : idx_q[15:0];
    end
  end
  logic issue;
  assign issue = state_q == S_PASS && idx_q < elems;

  logic [1:0]  w_q;               // issue → data (RD_LAT = 2)
  logic [15:0] j_q [2];
  // stage X (data back)
  logic signed [8:0] x;
  logic        xw;
  logic [15:0] xj;
  logic signed [8:0] max_a_q, max_b_q;
  logic [15:0] cls_a_q;
  logic [8:0]  d;                 // max − x, 0..255
  logic        d_in;              // inside its table
  logic [8:0]  entry;             // LUT entry index (b's after a's)
  // stage E (entry read)
  logic        e_v_q, e_w_q, e_half_q, e_in_q;
  logic [15:0] e_j_q;
  logic [31:0] e_val;
  logic [31:0] s_a_q, s_b_q;
  // stage P (product)
  logic        p_v_q, p_w_q;
  logic [15:0] p_j_q;
  logic [63:0] p_q, part_q, best_q, score;
  logic [15:0] cls_best_q;

  assign x  = instr_i.a_signed && !w_q[1] || instr_i.b_signed && w_q[1]
              ? 9'(signed'(act_rd_data_i[7:0])) : signed'({1'b0, act_rd_data_i[7:0]});
  assign xw = w_q[1];
  assign xj = j_q[1];
  assign d  = 9'(xw ? max_b_q - x : max_a_q - x);
  assign d_in  = 16'(d) < (xw ? len_b_q : len_a_q);
  assign entry = d + (xw ? len_a_q[8:0] : 9'd0);
  assign e_val = !e_in_q ? 32'd0 : e_half_q ? lut_rd_q[63:32] : lut_rd_q[31:0];
  assign score = part_q + p_q;

  always_ff @(posedge clk) begin
    // issue → X
    w_q    <= {w_q[0], i_which};
    j_q[0] <= i_j;
    j_q[1] <= j_q[0];
    // X → E
    lut_rd_q <= lut_q[entry[8:1]];
    e_v_q    <= act_rd_valid_i && pass_q != P_MAX;
    e_w_q    <= xw;
    e_j_q    <= xj;
    e_half_q <= entry[0];
    e_in_q   <= d_in;
    // E → P
    p_v_q <= e_v_q && pass_q == P_SCORE;
    p_w_q <= e_w_q;
    p_j_q <= e_j_q;
    p_q   <= 64'(e_val) * 64'(e_w_q ? s_a_q : s_b_q);
  end

  // ---------------------------------------------------------------- control
  always_ff @(posedge clk) begin
    done_o <= 1'b0;
    exit_o <= 1'b0;
    if (!rst_n || abort_i) begin
      state_q <= S_IDLE;
    end else begin
      case (state_q)
        S_IDLE: if (start_i) begin
          if (instr_i.point == 8'd0) begin
            mask_q <= '0;
            left_q <= {1'b0, batch_i};
          end
          wcnt_q  <= '0;
          state_q <= S_CMD;
        end
        S_CMD: if (rd_cmd_ready_i) state_q <= S_TABLE;
        S_TABLE: if (s_axis_tvalid) begin
          if (wcnt_q == 9'd0) begin
            thr_q   <= s_axis_tdata[31:0];
            len_a_q <= s_axis_tdata[47:32];
            len_b_q <= s_axis_tdata[63:48];
          end else begin
            lut_q[8'(wcnt_q - 9'd1)] <= s_axis_tdata;
          end
          wcnt_q <= wcnt_q + 9'd1;
          if (s_axis_tlast) begin
            img_q   <= '0;
            base_q  <= '0;
            state_q <= S_IMAGE;
          end
        end
        S_IMAGE: if (img_q == batch_i) begin
          done_o  <= 1'b1;
          state_q <= S_IDLE;
        end else if (mask_q[img_q]) begin
          img_q  <= img_q + 8'd1;
          base_q <= base_q + act_image_bytes_i;
        end else begin
          pass_q  <= P_MAX;
          idx_q   <= '0;
          drain_q <= '0;
          max_a_q <= -9'sd256;
          max_b_q <= -9'sd256;
          s_a_q   <= '0;
          s_b_q   <= '0;
          state_q <= S_PASS;
        end
        S_PASS: begin
          if (issue) begin
            idx_q <= idx_q + 17'd1;
          end else if (drain_q != 3'(DRAIN - 1)) begin
            drain_q <= drain_q + 3'd1;
          end else begin
            idx_q   <= '0;
            drain_q <= '0;
            if (pass_q == P_MAX) begin
              pass_q <= P_SUM;
            end else if (pass_q == P_SUM && avg) begin
              pass_q <= P_SCORE;
            end else begin
              state_q <= S_DECIDE;
            end
          end
          // stage X: maxima (P_MAX)
          if (act_rd_valid_i && pass_q == P_MAX) begin
            if (!xw && x > max_a_q) begin
              max_a_q <= x;
              cls_a_q <= xj;
            end
            if (xw && x > max_b_q) begin
              max_b_q <= x;
            end
          end
          // stage E: sums (P_SUM)
          if (e_v_q && pass_q == P_SUM) begin
            if (e_w_q) s_b_q <= s_b_q + e_val;
            else       s_a_q <= s_a_q + e_val;
          end
          // stage P: scores (P_SCORE)
          if (p_v_q) begin
            if (!p_w_q) begin
              part_q <= p_q;
            end else if (p_j_q == 16'd0 || score > best_q) begin
              best_q     <= score;
              cls_best_q <= p_j_q;
            end
          end
        end
        S_DECIDE: begin
          if (s_a_q <= thr_q) begin
            mask_q[img_q] <= 1'b1;
            left_q        <= left_q - 9'd1;
            exit_o        <= 1'b1;
          end
          img_q   <= img_q + 8'd1;
          base_q  <= base_q + act_image_bytes_i;
          state_q <= S_IMAGE;
        end
        default: state_q <= S_IDLE;
      endcase
    end
  end

  logic [15:0] cls;
  assign cls = avg ? cls_best_q : cls_a_q;

  assign jump_o         = left_q == 9'd0;
  assign exit_point_o   = instr_i.point;
  assign stall_o        = (state_q == S_CMD && !rd_cmd_ready_i)
                          || (state_q == S_TABLE && !s_axis_tvalid);
  assign rd_cmd_valid_o = state_q == S_CMD;
  assign rd_cmd_addr_o  = data_base_i + instr_i.ddr_off;
  assign rd_cmd_bytes_o = (instr_i.ddr_bytes + 32'd7) & ~32'd7;
  assign s_axis_tready  = state_q == S_TABLE;

  assign act_rd_valid_o = issue;
  assign act_rd_addr_o  = base_q + (i_which ? instr_i.b_base : instr_i.a_base) + 20'(i_j);
  assign act_wr_valid_o = state_q == S_DECIDE && s_a_q <= thr_q;
  assign act_wr_addr_o  = base_q + instr_i.y_base;
  assign act_wr_len_o   = LEN_W'(4);
  always_comb begin
    act_wr_data_o       = '0;
    act_wr_data_o[31:0] = {8'd1, instr_i.point, cls};
  end

  logic unused;
  assign unused = ^{act_rd_data_i[SIMD*8-1:8], instr_i};  // the fields EXIT does not use

endmodule

`default_nettype wire
