// LOAD / STORE unit of the layer-sequential engine: moves an image's record between DDR (through
// axi_dma) and a view of the activation buffer, for each image of the batch in turn.
//
// LOAD: one read command of ddr_bytes (rounded up to whole 8-byte words) at INPUT_BASE +
// image·input_bytes + ddr_off; each word's bytes go to view y (pixel p channel c at y_base +
// n·act_image_bytes + p·y_pitch + c) in writes of up to min(8, SIMD) bytes that never cross a
// pixel of a strided view (pitch ≠ C); a contiguous view (pitch = C) is one run of bytes, so it
// takes one write per word and words arrive at one per cycle. STORE: the mirror image: reads of
// up to SIMD bytes of view a (crossing no pixel of a strided view,
// at most DEPTH in flight, credit-counted into a FIFO so the buffer's fixed latency never
// overruns it), packed into 64-bit words (the last one zero-padded) for one write command at
// OUTPUT_BASE + image·output_bytes + ddr_off; an image is done when its write is acknowledged.
// done_o pulses once every image of the batch is done. abort_i returns to idle at once.
`default_nettype none

module seq_io #(
  parameter int unsigned SIMD = 8  // activation-buffer lanes, a power of two 1..128
) (
  `HCCR_UNIT_PORTS,                                    // instr_i: LOAD or STORE
  input  wire  [31:0]                image_first_i,     // index of the batch's first image
  input  wire  [31:0]                input_base_i,
  input  wire  [31:0]                input_bytes_i,
  input  wire  [31:0]                output_base_i,
  input  wire  [31:0]                output_bytes_i,

  `HCCR_ACT_PORTS(SIMD),
  `HCCR_UNIT_RD_PORTS,                                 // LOAD

  // DMA write channel (STORE)
  `HCCR_DMA_CMD_OUT_PORTS(wr_cmd),
  output logic [63:0]                m_axis_tdata,
  output logic                       m_axis_tvalid,
  input  wire                        m_axis_tready,
  input  wire                        wr_done_i
);

  localparam int unsigned LW    = $clog2(SIMD + 1);      // write length bits
  localparam int unsigned WB    = SIMD < 8 ? SIMD : 8;   // most bytes of one LOAD write
  localparam int unsigned DEPTH = 4;                     // STORE reads in flight + buffered
  localparam int unsigned PACK  = 8 + SIMD;              // STORE packer bytes

  if (SIMD < 1 || SIMD > 128 || (SIMD & (SIMD - 1)) != 0) begin : g_bad_simd
    $fatal(1, "seq_io: SIMD=%0d must be a power of two 1..128", SIMD);
  end

  typedef enum logic [2:0] {IDLE, SETUP, CMD, MOVE, ACK} state_e;

  seq_isa_pkg::instr_t ins;
  assign ins = instr_i;

  state_e      state_q;
  logic        store_q;
  logic [7:0]  image_q;     // images of the batch finished
  logic [31:0] rec_q;       // DDR address of this image's record + ddr_off
  logic [19:0] slot_q;      // this image's buffer slot offset
  logic [19:0] pix_q;       // buffer address of the current pixel
  logic [15:0] cpos_q;      // channel inside the current pixel
  logic [31:0] rem_q;       // bytes still to move into (LOAD) / read out of (STORE) the view
  logic [31:0] words;       // words of one record part

  logic [15:0] chans, pitch;
  logic [19:0] base;
  assign chans = store_q ? ins.a_c : ins.y_c;
  assign pitch = store_q ? ins.a_pitch : ins.y_pitch;
  assign base  = store_q ? ins.a_base : ins.y_base;
  assign words = (ins.ddr_bytes + 32'd7) >> 3;

  // One step through the view of `len` bytes (shared by LOAD writes and STORE reads).
  logic [31:0] step;      // bytes of this step
  logic        stepping;  // a step happens this cycle
  logic [31:0] room;      // bytes a step may take: the rest of the pixel, or of the view
  logic        contig;    // a contiguous view: one run of bytes
  assign contig = pitch == chans;
  assign room   = contig ? rem_q : 32'(chans - cpos_q);

  always_ff @(posedge clk) begin
    if (stepping) begin
      rem_q <= rem_q - step;
      if (contig) begin
        pix_q <= pix_q + 20'(step);
      end else if (32'(cpos_q) + step == 32'(chans)) begin
        cpos_q <= '0;
        pix_q  <= pix_q + 20'(pitch);
      end else begin
        cpos_q <= cpos_q + 16'(step);
      end
    end
    if (state_q == SETUP) begin
      rem_q  <= ins.ddr_bytes;
      cpos_q <= '0;
      pix_q  <= base + slot_q;
    end
  end

  // ---- LOAD: the word being split into writes
  logic [63:0] word_q;
  logic        word_v_q;
  logic [2:0]  woff_q;      // bytes of word_q already written
  logic [31:0] wlen;
  logic        word_end;    // this step uses the word's last byte (or the view's)
  logic        take;        // a new word enters

  always_comb begin
    wlen = 32'(8 - int'(woff_q));
    if (room < wlen) wlen = room;
    if (WB < wlen) wlen = WB;
    if (rem_q < wlen) wlen = rem_q;
  end
  assign word_end = 32'(woff_q) + wlen == 32'd8 || rem_q == wlen;
  assign s_axis_tready = state_q == MOVE && !store_q && (!word_v_q || word_end);
  assign take = s_axis_tvalid && s_axis_tready;

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i || state_q != MOVE) begin
      word_v_q <= 1'b0;
      woff_q   <= '0;
    end else if (take) begin
      word_v_q <= 1'b1;
      woff_q   <= '0;
    end else if (word_v_q) begin
      word_v_q <= !word_end;
      woff_q   <= woff_q + 3'(wlen);
    end
    if (take) begin
      word_q <= s_axis_tdata;
    end
  end

  assign act_wr_valid_o = word_v_q;
  assign act_wr_addr_o  = pix_q + 20'(cpos_q);
  assign act_wr_len_o   = LW'(wlen);
  always_comb begin
    act_wr_data_o = '0;
    for (int l = 0; l < WB; l++) begin
      act_wr_data_o[l*8 +: 8] = word_q[(int'(woff_q) + l) % 8 * 8 +: 8];
    end
  end

  // ---- STORE: reads into a credit-counted FIFO, then a byte packer
  logic [31:0] rlen;
  logic        rd_go;
  logic [$clog2(DEPTH+1)-1:0] credit_q;
  logic [LW-1:0] len1_q, len2_q;
  logic        f_valid, f_ready, f_last, pop;
  logic [SIMD*8+LW-1:0] f_data;
  logic [PACK*8-1:0] pk_q, pk_shift, pk_next;
  logic [$clog2(PACK+1)-1:0] cnt_q, cnt_shift;
  logic [31:0] wleft_q;     // words of this record still to send
  logic        emit;

  always_comb begin
    rlen = 32'(SIMD);
    if (room < rlen) rlen = room;
    if (rem_q < rlen) rlen = rem_q;
  end
  assign rd_go = state_q == MOVE && store_q && rem_q != 0 && credit_q != 0;
  assign stepping = rd_go || (word_v_q && !store_q);
  assign step = store_q ? rlen : wlen;
  assign act_rd_valid_o = rd_go;
  assign act_rd_addr_o  = pix_q + 20'(cpos_q);

  always_ff @(posedge clk) begin
    len1_q <= LW'(rlen);
    len2_q <= len1_q;
    if (!rst_n || state_q == SETUP) begin
      credit_q <= ($clog2(DEPTH+1))'(DEPTH);
    end else begin
      credit_q <= credit_q - {{($clog2(DEPTH+1)-1){1'b0}}, rd_go}
                  + {{($clog2(DEPTH+1)-1){1'b0}}, pop};
    end
  end

  fifo #(.DATA_W(SIMD*8 + LW), .DEPTH(DEPTH)) u_fifo (
    .clk,
    .rst_n         (rst_n && !abort_i && state_q != SETUP),
    .s_axis_tdata  ({len2_q, act_rd_data_i}),
    .s_axis_tvalid (act_rd_valid_i && store_q),
    .s_axis_tready (f_ready),
    .s_axis_tlast  (1'b0),
    .m_axis_tdata  (f_data),
    .m_axis_tvalid (f_valid),
    .m_axis_tready (pop),
    .m_axis_tlast  (f_last)
  );

  assign m_axis_tvalid = state_q == MOVE && store_q && wleft_q != 0
                         && (cnt_q >= 8 || (rem_q == 0 && 32'(credit_q) == DEPTH && cnt_q != 0));
  assign m_axis_tdata  = pk_q[63:0];
  assign emit = m_axis_tvalid && m_axis_tready;

  always_comb begin
    pk_shift  = emit ? pk_q >> 64 : pk_q;
    cnt_shift = emit ? (cnt_q >= 8 ? cnt_q - 8 : '0) : cnt_q;
    pop       = f_valid && cnt_shift < 8;
    pk_next   = pk_shift;
    if (pop) begin
      for (int l = 0; l < SIMD; l++) begin
        if (l < int'(f_data[SIMD*8 +: LW])) begin
          pk_next[(int'(cnt_shift) + l) * 8 +: 8] = f_data[l*8 +: 8];
        end
      end
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n || state_q == SETUP) begin
      cnt_q <= '0;
      pk_q  <= '0;
    end else begin
      cnt_q <= cnt_shift + (pop ? ($clog2(PACK+1))'(f_data[SIMD*8 +: LW]) : '0);
      pk_q  <= pk_next;
    end
  end

  // ---- sequencing
  logic cmd_ready;
  assign cmd_ready = store_q ? wr_cmd_ready_i : rd_cmd_ready_i;
  assign rd_cmd_addr_o  = rec_q;
  assign rd_cmd_bytes_o = words << 3;
  assign rd_cmd_valid_o = state_q == CMD && !store_q;
  assign wr_cmd_addr_o  = rec_q;
  assign wr_cmd_bytes_o = words << 3;
  assign wr_cmd_valid_o = state_q == CMD && store_q;

  logic [31:0] rec_bytes;
  assign rec_bytes = ins.opcode == seq_isa_pkg::OP_STORE ? output_bytes_i : input_bytes_i;

  always_ff @(posedge clk) begin
    done_o <= 1'b0;
    if (!rst_n || abort_i) begin
      state_q <= IDLE;
    end else begin
      case (state_q)
        IDLE: if (start_i) begin
          store_q <= ins.opcode == seq_isa_pkg::OP_STORE;
          image_q <= '0;
          slot_q  <= '0;
          rec_q   <= (ins.opcode == seq_isa_pkg::OP_STORE ? output_base_i : input_base_i)
                     + image_first_i * rec_bytes + ins.ddr_off;
          state_q <= SETUP;
        end
        SETUP: begin
          wleft_q <= words;
          state_q <= CMD;
        end
        CMD: if (cmd_ready) begin
          state_q <= MOVE;
        end
        MOVE: begin
          if (emit) begin
            wleft_q <= wleft_q - 32'd1;
          end
          if (store_q ? (emit && wleft_q == 32'd1) : (rem_q == 0 && !word_v_q)) begin
            state_q <= store_q ? ACK : SETUP;
          end
          if (!store_q && rem_q == 0 && !word_v_q) begin
            image_q <= image_q + 8'd1;
            slot_q  <= slot_q + act_image_bytes_i;
            rec_q   <= rec_q + rec_bytes;
            if (image_q + 8'd1 == batch_i) begin
              state_q <= IDLE;
              done_o  <= 1'b1;
            end
          end
        end
        ACK: if (wr_done_i) begin
          image_q <= image_q + 8'd1;
          slot_q  <= slot_q + act_image_bytes_i;
          rec_q   <= rec_q + rec_bytes;
          state_q <= SETUP;
          if (image_q + 8'd1 == batch_i) begin
            state_q <= IDLE;
            done_o  <= 1'b1;
          end
        end
        default: state_q <= IDLE;
      endcase
    end
  end

  assign stall_o = (state_q == CMD && !cmd_ready) || state_q == ACK
                   || (state_q == MOVE && !store_q && !word_v_q && !s_axis_tvalid)
                   || (m_axis_tvalid && !m_axis_tready);

  logic unused;
  assign unused = ^{s_axis_tlast, f_ready, f_last, ins};

endmodule

`default_nettype wire
