// MAC unit of the layer-sequential engine: conv2d / dense on the PE×SIMD mac_array, weights
// streamed from DDR tile by tile into two tile buffers (fetch of tile t+1 overlaps compute of t).
//
// A tile (hw/gen/seq/compiler._mac_block) is PE parameter words (bias' int32, M uint16, s
// uint8), then for each segment s and chunk k a PE×SIMD weight block of PE·SIMD/8 words. Loop
// order: tile t, image n, output pixel (y, x) row-major, segment s, chunk k: one array beat
// per cycle, with the SIMD bytes of the buffer at
//   a_base + n·act_image_bytes + ((y·sh + i − pad_t)·a_w + (x·sw + j − pad_l))·a_pitch + k·SIMD
// (tap mode: segment s = tap (i, j); row mode: kernel row i, j = 0). Lane l enters the array
// as x' = x (int8) or x ^ 0x80 (uint8), or as za' when it is masked: k·SIMD + l past the
// segment's length, or its byte outside the input row (row outside the image, or address
// outside [row start, row start + a_w·a_pitch)). So acc = bias' + Σ x'·w with the compiler's
// bias' = bias − za'·Σw; two PE lanes share a multiplier (mac_array PACK). After a pixel's
// last beat: + bias', requantiser (rq(acc, M, s)), + y_zp, clamp to [relu ? y_zp : lo, hi],
// PE bytes written at y_base + n·act_image_bytes + (y·y_w + x)·y_pitch + t·PE (min(PE,
// y_c − t·PE) of them). With `pool` (hw/gen/seq/pools.py) the conv's output is 2·y_h × 2·y_w
// pixels and y its 2×2 stride-2 max pool: a pixel is maxed with the one to its left (a
// register) and the pair with the pair above (a line buffer of POOL_ROW pooled pixels); only
// each window's bottom-right pixel writes, at pooled pixel (y/2, x/2).
// Cycles per tile: B·HO·WO·S·⌈L/SIMD⌉ beats and one START cycle; the next tile's beats follow
// while the tile's last pixels drain (each pixel carries its tile buffer, whose parameters its
// write-back uses; a buffer is refilled only once its pixels are written back); a tile waits
// for its fetch. The next tile's command is issued while the current tile's words arrive.
// Prefetch (hw/gen/seq/prefetch.py): after its last tile a MAC with pf_words fetches the tile
// at the end of its block + pf_gap words (the next MAC's first) into the free buffer and is
// done once it is in; the next MAC starts on that buffer when its own first tile is the one
// held (same ddr_off and tile_bytes), else drops it; flush_i (the run is over) drops it too.
`default_nettype none

module seq_mac #(
  parameter int unsigned PE         = 4,      // output channels per tile, 1..SIMD
  parameter int unsigned SIMD       = 8,      // input bytes per beat, a power of two 1..128
  parameter int unsigned TILE_BYTES = 16384,  // one tile buffer's bytes, a multiple of 8
  parameter int unsigned ACT_BYTES  = 65536,  // activation-buffer bytes (address wrap)
  parameter bit          UNIT_M     = 1'b0    // shift-only requantiser (every M = 1)
) (
  `HCCR_UNIT_PORTS,
  input  wire  [31:0]                data_base_i,
  input  wire                        flush_i,   // drop a prefetched tile

  `HCCR_ACT_PORTS(SIMD),
  `HCCR_UNIT_RD_PORTS
);


  localparam int unsigned BW     = PE * SIMD / 8;                    // words per weight block
  localparam int unsigned RB     = (TILE_BYTES / 8 + BW - 1) / BW;   // block rows per buffer
  localparam int unsigned TAW    = $clog2(2 * RB);                   // tile memory row bits
  localparam int unsigned LW     = $clog2(SIMD + 1);                 // write length bits
  localparam int unsigned SW     = 26;                               // signed address bits
  localparam int unsigned USER_W = 22;                  // output address, tile buffer, last tile
  localparam int unsigned RD_LAT = 2;                                // act buffer read latency
  localparam int unsigned PIW    = PE > 1 ? $clog2(PE) : 1;          // PE index bits
  localparam int unsigned LBW    = $clog2(seq_isa_pkg::POOL_ROW);    // line buffer index bits

  if (SIMD < 1 || SIMD > 128 || (SIMD & (SIMD - 1)) != 0) begin : g_bad_simd
    $fatal(1, "seq_mac: SIMD=%0d must be a power of two 1..128", SIMD);
  end
  if (PE < 1 || PE > SIMD || (PE * SIMD) % 8 != 0) begin : g_bad_pe
    $fatal(1, "seq_mac: PE=%0d must be 1..SIMD=%0d with PE*SIMD a multiple of 8", PE, SIMD);
  end
  if (TILE_BYTES < 8 * (PE + BW) || TILE_BYTES % 8 != 0) begin : g_bad_tile
    $fatal(1, "seq_mac: TILE_BYTES=%0d must be a multiple of 8 holding one block", TILE_BYTES);
  end

  seq_isa_pkg::instr_t ins;
  assign ins = instr_i;

  // ---------------------------------------------------------------- setup constants
  typedef enum logic [2:0] {IDLE, SETUP1, SETUP2, START, RUN, DRAIN} state_e;
  state_e state_q;

  logic signed [SW-1:0] rowb_q;   // a_w·a_pitch: bytes of an input row
  logic signed [SW-1:0] hstep_q;  // sw·a_pitch
  logic signed [SW-1:0] vstep_q;  // sh·rowb
  logic signed [SW-1:0] col0_q;   // −pad_l·a_pitch
  logic signed [SW-1:0] row0_q;   // −pad_t·rowb
  logic [23:0]          len_q;    // bytes of a segment
  logic [23:0]          chunks_q; // ⌈len/SIMD⌉
  logic [15:0]          segs_q;   // segments per pixel

  always_ff @(posedge clk) begin
    if (state_q == SETUP1) begin
      rowb_q  <= SW'(ins.a_w) * SW'(ins.a_pitch);
      hstep_q <= SW'(ins.sw) * SW'(ins.a_pitch);
      col0_q  <= -(SW'(ins.pad_l) * SW'(ins.a_pitch));
      len_q   <= ins.row ? 24'(ins.kw) * 24'(ins.a_c) : 24'(ins.a_c);
      segs_q  <= ins.row ? 16'(ins.kh) : 16'(ins.kh) * 16'(ins.kw);
    end
    if (state_q == SETUP2) begin
      vstep_q  <= SW'(ins.sh) * rowb_q;
      row0_q   <= -(SW'(ins.pad_t) * rowb_q);
      chunks_q <= (len_q + 24'(SIMD - 1)) / 24'(SIMD);
    end
  end

  // ---------------------------------------------------------------- tile fetch
  // Tile k goes to buffer k mod 2. Its command is issued as soon as that buffer is neither
  // full nor already commanded, so the next tile's command follows the current one's without
  // waiting for its words (the DMA answers in command order): the DDR latency shows once.
  logic [1:0]       full_q;         // tile buffer b holds a tile
  logic [1:0]       resv_q;         // tile buffer b is commanded, its words still arriving
  logic [15:0]      ftile_q;        // next tile to command
  logic             fbuf_q;         // its buffer
  logic             fcmd_q;         // its command is pending
  logic             dbuf_q;         // the buffer the arriving words fill
  logic [23:0]      fword_q;        // word index inside the tile
  logic [$clog2(BW+1)-1:0] flane_q; // block word lane of the next block word
  logic [TAW-1:0]   frow_q;         // its row
  logic [63:0]      param_q [2][PE];
  logic [15:0]      ctile_q;        // tile being computed
  logic             cbuf_q;
  logic [1:0]       free;           // tile buffer b's tile is computed and written back
  logic [1:0]       computed_q;     // tile buffer b's tile has had its last beat
  logic             take;
  logic             fpf;            // the command is the prefetch (tile `tiles`)
  logic [15:0]      ftiles;         // tiles to command, the prefetch included
  logic [31:0]      foff;           // the command's offset from DATA_BASE
  logic [31:0]      fbytes;         // its bytes
  logic             pfv_q;          // buffer pfb_q holds a prefetched tile
  logic             pfb_q;
  logic [31:0]      pfoff_q;        // its offset from DATA_BASE
  logic [31:0]      pfbytes_q;      // its bytes
  logic             hit;            // the MAC starting now begins on the prefetched tile
  logic             drained;        // every pixel written back, the prefetch in

  assign fpf     = ftile_q == ins.tiles;
  assign ftiles  = ins.tiles + 16'(ins.pf_words != '0);
  assign foff    = ins.ddr_off + 32'(ftile_q) * 32'(ins.tile_bytes)
                   + (fpf ? {{14{ins.pf_gap[14]}}, ins.pf_gap, 3'b000} : 32'd0);
  assign fbytes  = fpf ? {14'd0, ins.pf_words, 3'b000} : 32'(ins.tile_bytes);
  assign hit     = pfv_q && pfoff_q == ins.ddr_off && pfbytes_q == 32'(ins.tile_bytes);
  assign drained = computed_q == '0 && ftile_q == ftiles && !fcmd_q && resv_q == '0;

  assign rd_cmd_valid_o = fcmd_q;
  assign rd_cmd_addr_o  = data_base_i + foff;
  assign rd_cmd_bytes_o = fbytes;
  assign s_axis_tready  = resv_q[dbuf_q];
  assign take           = s_axis_tvalid && resv_q[dbuf_q];

  always_ff @(posedge clk) begin
    if (!rst_n || abort_i || flush_i) begin
      full_q  <= '0;
      resv_q  <= '0;
      fcmd_q  <= 1'b0;
      ftile_q <= '0;
      fbuf_q  <= 1'b0;
      dbuf_q  <= 1'b0;
      fword_q <= '0;
      flane_q <= '0;
      frow_q  <= '0;
      pfv_q   <= 1'b0;
    end else if (state_q == IDLE) begin
      if (start_i) begin
        pfv_q <= 1'b0;
        if (hit) begin  // tile 0 is in buffer pfb_q: fetch from tile 1 into the other one
          ftile_q <= 16'd1;
          fbuf_q  <= !pfb_q;
        end else begin
          full_q  <= '0;
          ftile_q <= '0;
          fbuf_q  <= 1'b0;
          dbuf_q  <= 1'b0;
          frow_q  <= '0;
        end
      end
    end else begin
      if (!fcmd_q && ftile_q != ftiles && !full_q[fbuf_q] && !resv_q[fbuf_q]) begin
        fcmd_q <= 1'b1;
      end
      if (fcmd_q && rd_cmd_ready_i) begin
        fcmd_q         <= 1'b0;
        resv_q[fbuf_q] <= 1'b1;
        ftile_q        <= ftile_q + 16'd1;
        fbuf_q         <= !fbuf_q;
        if (fpf) begin
          pfb_q     <= fbuf_q;
          pfoff_q   <= foff;
          pfbytes_q <= fbytes;
        end
      end
      if (state_q == DRAIN && drained) begin
        pfv_q <= ins.pf_words != '0;
      end
      if (take) begin
        fword_q <= fword_q + 24'd1;
        if (fword_q >= 24'(PE)) begin
          if (32'(flane_q) == BW - 1) begin
            flane_q <= '0;
            frow_q  <= frow_q + TAW'(1);
          end else begin
            flane_q <= flane_q + 1'b1;
          end
        end
        if (s_axis_tlast) begin  // the tile is in; the next one's words fill the other buffer
          resv_q[dbuf_q] <= 1'b0;
          full_q[dbuf_q] <= 1'b1;
          dbuf_q         <= !dbuf_q;
          fword_q        <= '0;
          flane_q        <= '0;
          frow_q         <= dbuf_q ? '0 : TAW'(RB);
        end
      end
      for (int u = 0; u < 2; u++) begin
        if (free[u]) begin
          full_q[u] <= 1'b0;
        end
      end
    end
    if (take && fword_q < 24'(PE)) begin
      param_q[dbuf_q][PIW'(fword_q)] <= s_axis_tdata;
    end
  end

  // Tile memory: BW lanes of 64-bit words; block b of buffer u is row u·RB + b of every lane.
  logic [TAW-1:0]        trow;       // row read this beat
  logic [PE*SIMD*8-1:0]  wblk_q, wblk2_q;

  for (genvar m = 0; m < BW; m++) begin : g_lane
    logic [63:0] mem [2 * RB];
    always_ff @(posedge clk) begin
      if (take && fword_q >= 24'(PE) && 32'(flane_q) == m) begin
        mem[frow_q] <= s_axis_tdata;
      end
    end
    always_ff @(posedge clk) begin
      wblk_q[m*64 +: 64] <= mem[trow];
    end
  end

  // ---------------------------------------------------------------- beat counters
  logic        beat;                        // an array beat is issued this cycle
  logic [7:0]  n_q;
  logic [11:0] y_q, x_q;
  logic [15:0] s_q;                         // segment
  logic [7:0]  i_q, j_q;                    // its kernel row, column
  logic [23:0] k_q;                         // chunk
  logic [TAW-1:0] blk_q;                    // block row of (s, k) in the tile buffer
  logic signed [SW-1:0] img_q;              // a_base + n·act_image_bytes
  logic signed [SW-1:0] orow_q, ocol_q;     // window origin: row start, column offset
  logic signed [SW-1:0] srow_q, scol_q;     // this segment's row start and column offset
  logic signed [SW-1:0] iy0_q, iy_q;        // y·sh − pad_t, + i
  logic [19:0] yimg_q, ypix_q;              // output: image slot, pixel address
  logic [19:0] prow_q;                      // pool: the pooled row's first pixel address
  logic [19:0] ynext;                       // the next pixel's output address
  logic [11:0] ho, wo;                      // conv output rows, columns (pool: twice y's)
  logic        last_k, last_s, last_x, last_y, last_n;

  assign ho    = ins.pool ? {ins.y_h[10:0], 1'b0} : ins.y_h;
  assign wo    = ins.pool ? {ins.y_w[10:0], 1'b0} : ins.y_w;
  assign ynext = ypix_q + (!ins.pool || x_q[0] ? 20'(ins.y_pitch) : 20'd0);

  assign last_k = k_q + 24'd1 == chunks_q;
  assign last_s = s_q + 16'd1 == segs_q;
  assign last_x = x_q + 12'd1 == wo;
  assign last_y = y_q + 12'd1 == ho;
  assign last_n = n_q + 8'd1 == batch_i;
  // A buffer whose tile is computed but not yet written back holds no new tile yet: a tile
  // shorter than the pipeline waits here rather than computing on the tile before last.
  assign beat   = state_q == RUN && full_q[cbuf_q] && !computed_q[cbuf_q];
  assign trow   = (cbuf_q ? TAW'(RB) : '0) + blk_q;


  logic [19:0] ytile;  // y_base + t·PE of the tile being computed
  assign ytile = ins.y_base + 20'(32'(ctile_q) * PE);

  always_ff @(posedge clk) begin
    if (state_q == START) begin  // the tile's first beat
      n_q    <= '0;
      y_q    <= '0;
      x_q    <= '0;
      s_q    <= '0;
      i_q    <= '0;
      j_q    <= '0;
      k_q    <= '0;
      blk_q  <= '0;
      img_q  <= SW'(ins.a_base);
      orow_q <= SW'(ins.a_base) + row0_q;
      srow_q <= SW'(ins.a_base) + row0_q;
      ocol_q <= col0_q;
      scol_q <= col0_q;
      iy0_q  <= SW'(0) - SW'(ins.pad_t);
      iy_q   <= SW'(0) - SW'(ins.pad_t);
      yimg_q <= ytile;
      ypix_q <= ytile;
      prow_q <= ytile;
    end else if (beat) begin
      k_q <= k_q + 24'd1;
      blk_q <= blk_q + TAW'(1);
      if (last_k) begin
        k_q <= '0;
        s_q <= s_q + 16'd1;
        if (ins.row || 8'(j_q + 8'd1) == ins.kw) begin
          j_q    <= '0;
          i_q    <= i_q + 8'd1;
          srow_q <= srow_q + rowb_q;
          scol_q <= ocol_q;
          iy_q   <= iy_q + SW'(1);
        end else begin
          j_q    <= j_q + 8'd1;
          scol_q <= scol_q + SW'(ins.a_pitch);
        end
        if (last_s) begin  // next pixel
          s_q   <= '0;
          i_q   <= '0;
          j_q   <= '0;
          blk_q <= '0;
          x_q   <= x_q + 12'd1;
          ocol_q <= ocol_q + hstep_q;
          scol_q <= ocol_q + hstep_q;
          srow_q <= orow_q;
          iy_q   <= iy0_q;
          ypix_q <= ynext;
          if (last_x) begin
            if (ins.pool && !y_q[0]) begin  // the same pooled row for the conv row below
              ypix_q <= prow_q;
            end else begin
              prow_q <= ynext;
            end
            x_q    <= '0;
            y_q    <= y_q + 12'd1;
            ocol_q <= col0_q;
            scol_q <= col0_q;
            orow_q <= orow_q + vstep_q;
            srow_q <= orow_q + vstep_q;
            iy0_q  <= iy0_q + SW'(ins.sh);
            iy_q   <= iy0_q + SW'(ins.sh);
            if (last_y) begin
              n_q    <= n_q + 8'd1;
              y_q    <= '0;
              img_q  <= img_q + SW'(act_image_bytes_i);
              orow_q <= img_q + SW'(act_image_bytes_i) + row0_q;
              srow_q <= img_q + SW'(act_image_bytes_i) + row0_q;
              iy0_q  <= SW'(0) - SW'(ins.pad_t);
              iy_q   <= SW'(0) - SW'(ins.pad_t);
              yimg_q <= yimg_q + act_image_bytes_i;
              ypix_q <= yimg_q + act_image_bytes_i;
              prow_q <= yimg_q + act_image_bytes_i;
            end
          end
        end
      end
    end
  end

  // ---------------------------------------------------------------- tile sequencing
  // The next tile starts right after a tile's last beat: each pixel carries its tile buffer
  // (whose parameters its write-back uses) down the pipeline, and a buffer is freed for the
  // next fetch once its tile's last pixel is written back.
  logic        last_beat;     // the tile's last beat is issued now
  logic [7:0]  pend_q [2];    // per tile buffer: pixels issued, not yet written back
  logic        wb;            // a pixel is written back this cycle
  logic        wbuf_q;        // its tile buffer

  assign last_beat = beat && last_k && last_s && last_x && last_y && last_n;
  for (genvar u = 0; u < 2; u++) begin : g_free
    assign free[u] = computed_q[u] && pend_q[u] == '0;
  end

  always_ff @(posedge clk) begin
    done_o <= 1'b0;
    if (!rst_n || abort_i) begin
      state_q    <= IDLE;
      pend_q[0]  <= '0;
      pend_q[1]  <= '0;
      computed_q <= '0;
    end else begin
      for (int u = 0; u < 2; u++) begin
        pend_q[u] <= pend_q[u] + 8'(beat && last_k && last_s && cbuf_q == 1'(u))
                     - 8'(wb && wbuf_q == 1'(u));
        if (free[u]) begin
          computed_q[u] <= 1'b0;
        end
      end
      if (last_beat) begin
        computed_q[cbuf_q] <= 1'b1;
      end
      case (state_q)
        IDLE: if (start_i) begin
          state_q <= SETUP1;
          ctile_q <= '0;
          cbuf_q  <= hit && pfb_q;
        end
        SETUP1: state_q <= SETUP2;
        SETUP2: state_q <= START;
        START: state_q <= RUN;
        RUN: if (last_beat) begin
          ctile_q <= ctile_q + 16'd1;
          cbuf_q  <= !cbuf_q;
          state_q <= ctile_q + 16'd1 == ins.tiles ? DRAIN : START;
        end
        DRAIN: if (drained) begin
          state_q <= IDLE;
          done_o  <= 1'b1;
        end
        default: state_q <= IDLE;
      endcase
    end
  end

  // ---------------------------------------------------------------- beat datapath
  logic signed [SW-1:0] ca, rs, re;
  logic [SIMD-1:0]      mask;        // lane valid
  logic                 rowv;
  logic signed [SW-1:0] addr;

  assign ca   = srow_q + scol_q + SW'(k_q) * SW'(SIMD);
  assign rs   = srow_q;
  assign re   = srow_q + rowb_q;
  assign rowv = iy_q >= 0 && iy_q < SW'(ins.a_h);
  always_comb begin
    for (int l = 0; l < SIMD; l++) begin
      mask[l] = rowv && ca + SW'(l) >= rs && ca + SW'(l) < re
                && 32'(k_q) * SIMD + 32'(l) < 32'(len_q);
    end
    addr = ca;
    if (addr < 0) begin
      addr = addr + SW'(ACT_BYTES);
    end else if (addr >= SW'(ACT_BYTES)) begin
      addr = addr - SW'(ACT_BYTES);
    end
  end

  assign act_rd_valid_o = beat;
  assign act_rd_addr_o  = 20'(addr);

  // Delay the beat's control to the buffer's data.
  logic [SIMD-1:0]   mask_d [RD_LAT];
  logic [RD_LAT-1:0] v_d, first_d, last_d;
  logic [USER_W-1:0] yaddr_d [RD_LAT];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v_d <= '0;
    end else begin
      v_d <= {v_d[RD_LAT-2:0], beat};
    end
    mask_d[0]  <= mask;
    first_d[0] <= k_q == '0 && s_q == '0;
    last_d[0]  <= last_k && last_s;
    yaddr_d[0] <= {ctile_q + 16'd1 == ins.tiles, cbuf_q, ypix_q};
    for (int d = 1; d < RD_LAT; d++) begin
      mask_d[d]  <= mask_d[d-1];
      first_d[d] <= first_d[d-1];
      last_d[d]  <= last_d[d-1];
      yaddr_d[d] <= yaddr_d[d-1];
    end
    wblk2_q <= wblk_q;
  end

  logic [7:0]        flip;     // uint8 enters the int8 array as x − 128
  logic [SIMD*8-1:0] xin;
  assign flip = ins.a_signed ? 8'h00 : 8'h80;
  always_comb begin
    for (int l = 0; l < SIMD; l++) begin
      xin[l*8 +: 8] = (mask_d[RD_LAT-1][l] ? act_rd_data_i[l*8 +: 8] : ins.a_zp[7:0]) ^ flip;
    end
  end

  logic              acc_v;
  logic [PE*32-1:0]  acc;
  logic [USER_W-1:0] acc_user;

  mac_array #(
    .PE(PE), .SIMD(SIMD), .IN_SIGNED(1'b1), .IN_ZP(0), .ACC_W(32), .USER_W(USER_W),
    .PACK(1'b1)
  ) u_array (
    .clk,
    .rst_n,
    .valid_i (v_d[RD_LAT-1]),
    .first_i (first_d[RD_LAT-1]),
    .last_i  (last_d[RD_LAT-1]),
    .x_i     (xin),
    .w_i     (wblk2_q),
    .user_i  (yaddr_d[RD_LAT-1]),
    .cut_i   (3'd0),
    .valid_o (acc_v),
    .acc_o   (acc),
    .user_o  (acc_user)
  );

  // + bias', then rq(acc, M, s) per PE lane, then + y_zp and the clamp.
  logic              bv_q;
  logic [PE*32-1:0]  biased_q;
  logic [PE*16-1:0]  mult;
  logic [PE*6-1:0]   shift;
  logic [USER_W-1:0] buser_q;
  always_comb begin
    for (int p = 0; p < PE; p++) begin
      mult[p*16 +: 16] = param_q[buser_q[20]][p][47:32];
      shift[p*6 +: 6]  = param_q[buser_q[20]][p][53:48];
    end
  end
  always_ff @(posedge clk) begin
    bv_q <= rst_n && acc_v;
    if (acc_v) begin
      for (int p = 0; p < PE; p++) begin
        biased_q[p*32 +: 32] <= acc[p*32 +: 32] + param_q[acc_user[20]][p][31:0];
      end
      buser_q <= acc_user;
    end
  end

  logic              rq_v;
  logic [PE*32-1:0]  rq_y;
  logic [USER_W-1:0] rq_user;

  requantiser #(
    .LANES(PE), .ACC_W(32), .OUT_W(32), .OUT_SIGNED(1'b1), .OUT_ZP(0), .RELU(1'b0),
    .USER_W(USER_W), .UNIT_M(UNIT_M)
  ) u_rq (
    .clk,
    .rst_n,
    .valid_i (bv_q),
    .acc_i   (biased_q),
    .mult_i  (mult),
    .shift_i (shift),
    .user_i  (buser_q),
    .valid_o (rq_v),
    .y_o     (rq_y),
    .user_o  (rq_user)
  );

  logic signed [33:0] lo, hi;
  assign lo = ins.relu ? 34'(ins.y_zp) : ins.y_signed ? -34'sd128 : 34'sd0;
  assign hi = ins.y_signed ? 34'sd127 : 34'sd255;

  logic              wv_q;
  logic [19:0]       waddr_q;
  logic              wlast_q;  // the write-back is of the last tile
  logic [PE*8-1:0]   wdata_q;
  logic signed [33:0] yv [PE];  // rq + y_zp per lane
  for (genvar p = 0; p < PE; p++) begin : g_zp
    assign yv[p] = 34'($signed(rq_y[p*32 +: 32])) + 34'(ins.y_zp);
  end
  always_ff @(posedge clk) begin
    wv_q <= rst_n && rq_v;
    if (rq_v) begin
      waddr_q <= rq_user[19:0];
      wbuf_q  <= rq_user[20];
      wlast_q <= rq_user[21];
      for (int p = 0; p < PE; p++) begin
        wdata_q[p*8 +: 8] <= yv[p] < lo ? lo[7:0] : yv[p] > hi ? hi[7:0] : yv[p][7:0];
      end
    end
  end

  // Pool: the written-back pixel's conv column and row parity; the pixel to its left; the
  // row above's pairs (LUT RAM, read asynchronously).
  logic [11:0]      px_q;
  logic             py_q;
  logic [PE*8-1:0]  hold_q, left, pooled;
  logic [PE*8-1:0]  line_q [seq_isa_pkg::POOL_ROW];
  logic [PE*8-1:0]  above;

  logic [7:0] ybias;  // the signed maximum is the unsigned one with the sign bits flipped
  assign ybias = ins.y_signed ? 8'h80 : 8'h00;
  assign above = line_q[px_q[LBW:1]];
  always_comb begin
    for (int p = 0; p < PE; p++) begin
      left[p*8 +: 8]   = (hold_q[p*8 +: 8] ^ ybias) > (wdata_q[p*8 +: 8] ^ ybias)
                         ? hold_q[p*8 +: 8] : wdata_q[p*8 +: 8];
      pooled[p*8 +: 8] = (above[p*8 +: 8] ^ ybias) > (left[p*8 +: 8] ^ ybias)
                         ? above[p*8 +: 8] : left[p*8 +: 8];
    end
  end
  always_ff @(posedge clk) begin
    if (state_q == SETUP1) begin
      px_q <= '0;
      py_q <= 1'b0;
    end else if (wv_q) begin
      px_q   <= px_q + 12'd1 == wo ? '0 : px_q + 12'd1;
      py_q   <= px_q + 12'd1 == wo ? !py_q : py_q;
      hold_q <= wdata_q;
    end
  end
  always_ff @(posedge clk) begin
    if (wv_q && px_q[0] && !py_q) begin
      line_q[px_q[LBW:1]] <= left;
    end
  end

  logic [31:0] wlen;
  assign wlen = wlast_q ? 32'(ins.y_c) - (32'(ins.tiles) - 32'd1) * PE : PE;
  assign wb = wv_q;
  assign act_wr_valid_o = wv_q && (!ins.pool || (px_q[0] && py_q));
  assign act_wr_addr_o  = waddr_q;
  assign act_wr_data_o  = (SIMD*8)'(ins.pool ? pooled : wdata_q);
  assign act_wr_len_o   = wlen < PE ? LW'(wlen) : LW'(PE);

  assign stall_o = state_q == RUN && !beat;

  logic unused;
  assign unused = ^{act_rd_valid_i, ins, s_axis_tlast};

endmodule

`default_nettype wire
