// Beat iterator of the vector unit (seq_vec): walks one instruction's loop nest and gives the
// current beat (ACT addresses, flags) until the unit issues it (adv_i), then the next.
//
// Loop nest, outermost first: image n < batch; output pixel (py, px) < (PH, PW) row-major;
// chunk k of SIMD channels < ⌈C/SIMD⌉; window tap (ti, tj) < (KH, KW); operand (a, then b
// for a binary op). A reduction (red_i: GAVG, GWAP) ends each image with a flush pass over its
// chunks (no ACT read). Addresses are kept incrementally (no multiplier per beat), modulo
// 2^20; for a windowed op the caller computes the products row_stride = a_w·pitch,
// col_step = sw·pitch, row_step = sh·row_stride and origin = pad_t·row_stride + pad_l·pitch
// once (else col_step = pitch, origin = 0, and row_stride, row_step are not used).
//   a address = a_base + n·img + ((py·sh − pad_t + ti)·a_w + px·sw − pad_l + tj)·pitch + k·SIMD
//   b address = b_base + n·img + pix·b_step + (b_chunk ? k·SIMD : 0)
//   y address = y_base + n·img + pix·y_step + (ch_i ? 0 : k·SIMD)
// pad_o: the tap lies outside the a_h × a_w input (windowed ops only).
`default_nettype none

module seq_vec_iter #(
  parameter int unsigned SIMD = 8  // channels per beat, 1..255
) (
  input  wire         clk,
  input  wire         rst_n,          // synchronous, active low
  input  wire         init_i,         // load image 0's first beat (constants below are set)
  input  wire         adv_i,          // the current beat is issued: step to the next one

  input  wire         win_i,          // windowed op (taps, padding, strides)
  input  wire         bin_i,          // binary op: two beats (a, b) per element
  input  wire         red_i,          // reduction over pixels: a flush pass per image
  input  wire         ch_i,           // channel reduction: one output byte per pixel
  input  wire         b_chunk_i,      // b address advances with k
  input  wire  [7:0]  kh_i,           // taps (1 when not windowed)
  input  wire  [7:0]  kw_i,
  input  wire  [11:0] ph_i,           // output pixels walked
  input  wire  [11:0] pw_i,
  input  wire  [11:0] ah_i,           // input a height and width (padding test)
  input  wire  [11:0] aw_i,
  input  wire  [15:0] c_i,            // channels of a
  input  wire  [7:0]  batch_i,        // images, 1..255
  input  wire  [3:0]  sh_i,           // strides (1 when not windowed)
  input  wire  [3:0]  sw_i,
  input  wire  [3:0]  pad_t_i,
  input  wire  [3:0]  pad_l_i,
  input  wire  [19:0] a_base_i,
  input  wire  [19:0] b_base_i,
  input  wire  [19:0] y_base_i,
  input  wire  [19:0] img_i,          // bytes between two images' slots
  input  wire  [19:0] a_pitch_i,
  input  wire  [19:0] b_step_i,       // b bytes per pixel (0: one b for every pixel)
  input  wire  [19:0] y_step_i,       // y bytes per pixel (0: one y for every pixel)
  input  wire  [19:0] row_stride_i,
  input  wire  [19:0] col_step_i,
  input  wire  [19:0] row_step_i,
  input  wire  [19:0] origin_i,

  output logic        valid_o,        // a beat is left (the current one)
  output logic        img_end_o,      // the current beat is its image's last
  output logic        final_o,        // the current beat is the instruction's last
  output logic [19:0] a_addr_o,
  output logic [19:0] b_addr_o,
  output logic [19:0] y_addr_o,
  output logic        opnd_o,         // 1: the b beat of a binary op
  output logic        pad_o,
  output logic        first_o,        // first contribution of an accumulation
  output logic        last_o,         // the beat completes an output
  output logic        flush_o,        // flush beat of a reduction
  output logic [15:0] k_o,            // chunk index
  output logic [15:0] len_o           // channels in this chunk, 1..SIMD
);

  logic [7:0]         n_q;
  logic [11:0]        py_q, px_q;
  logic [15:0]        k_q;
  logic [7:0]         ti_q, tj_q;
  logic               opnd_q, flush_q, busy_q;
  logic signed [13:0] iy0_q, ix0_q, iy_q, ix_q;
  logic [19:0]        img_q, arow_q, awin_q, achunk_q, atrow_q, atap_q, koff_q, ypix_q, bpix_q;

  logic        tap_end, chunk_end, row_end, pix_end, img_end;
  logic [19:0] img_next, a_first, row_next;
  logic [15:0] rest;

  assign rest      = c_i - koff_q[15:0];
  assign tap_end   = (!bin_i || opnd_q) && tj_q == kw_i - 8'd1 && ti_q == kh_i - 8'd1;
  assign chunk_end = rest <= 16'(SIMD);
  assign row_end   = px_q == pw_i - 12'd1;
  assign pix_end   = row_end && py_q == ph_i - 12'd1;
  assign img_end   = tap_end && chunk_end && (red_i ? flush_q : pix_end);
  assign img_next  = img_q + img_i;
  assign a_first   = a_base_i + img_next - origin_i;
  // the next output row's window: a new input row (windows), or the next pixel (pixels of a
  // non-windowed op are contiguous rows of the a_h × a_w view)
  assign row_next  = win_i ? arow_q + row_step_i : awin_q + col_step_i;

  assign valid_o   = busy_q;
  assign img_end_o = img_end;
  assign final_o   = img_end && n_q == batch_i - 8'd1;
  assign a_addr_o  = atap_q;
  assign b_addr_o  = bpix_q + (b_chunk_i ? koff_q : 20'd0);
  assign y_addr_o  = ypix_q + (ch_i ? 20'd0 : koff_q);
  assign opnd_o    = opnd_q;
  assign pad_o     = win_i && (iy_q < 0 || ix_q < 0 || iy_q >= $signed({2'b0, ah_i})
                               || ix_q >= $signed({2'b0, aw_i}));
  assign first_o   = win_i ? (ti_q == 8'd0 && tj_q == 8'd0)
                   : ch_i  ? k_q == 16'd0
                   : red_i ? (!flush_q && py_q == 12'd0 && px_q == 12'd0) : 1'b1;
  assign last_o    = win_i ? tap_end : ch_i ? chunk_end : red_i ? flush_q
                   : (!bin_i || opnd_q);
  assign flush_o   = flush_q;
  assign k_o       = k_q;
  assign len_o     = chunk_end ? rest : 16'(SIMD);

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      busy_q <= 1'b0;
    end else if (init_i) begin
      busy_q <= 1'b1;
    end else if (adv_i && img_end && n_q == batch_i - 8'd1) begin
      busy_q <= 1'b0;
    end
  end

  // Counters and addresses (datapath-style: loaded at init_i, stepped on adv_i).
  always_ff @(posedge clk) begin
    if (init_i || (adv_i && img_end)) begin
      n_q      <= init_i ? 8'd0 : n_q + 8'd1;
      img_q    <= init_i ? 20'd0 : img_next;
      py_q     <= '0;
      px_q     <= '0;
      k_q      <= '0;
      ti_q     <= '0;
      tj_q     <= '0;
      opnd_q   <= 1'b0;
      flush_q  <= 1'b0;
      koff_q   <= '0;
      iy0_q    <= -$signed({10'd0, pad_t_i});
      iy_q     <= -$signed({10'd0, pad_t_i});
      ix0_q    <= -$signed({10'd0, pad_l_i});
      ix_q     <= -$signed({10'd0, pad_l_i});
      arow_q   <= init_i ? a_base_i - origin_i : a_first;
      awin_q   <= init_i ? a_base_i - origin_i : a_first;
      achunk_q <= init_i ? a_base_i - origin_i : a_first;
      atrow_q  <= init_i ? a_base_i - origin_i : a_first;
      atap_q   <= init_i ? a_base_i - origin_i : a_first;
      ypix_q   <= y_base_i + (init_i ? 20'd0 : img_next);
      bpix_q   <= b_base_i + (init_i ? 20'd0 : img_next);
    end else if (adv_i) begin
      if (bin_i && !opnd_q) begin
        opnd_q <= 1'b1;
      end else begin
        opnd_q <= 1'b0;
        if (tj_q != kw_i - 8'd1) begin
          tj_q   <= tj_q + 8'd1;
          ix_q   <= ix_q + 14'sd1;
          atap_q <= atap_q + a_pitch_i;
        end else if (ti_q != kh_i - 8'd1) begin
          tj_q    <= '0;
          ti_q    <= ti_q + 8'd1;
          iy_q    <= iy_q + 14'sd1;
          ix_q    <= ix0_q;
          atrow_q <= atrow_q + row_stride_i;
          atap_q  <= atrow_q + row_stride_i;
        end else begin
          tj_q <= '0;
          ti_q <= '0;
          iy_q <= iy0_q;
          ix_q <= ix0_q;
          if (!chunk_end) begin
            k_q      <= k_q + 16'd1;
            koff_q   <= koff_q + 20'(SIMD);
            achunk_q <= achunk_q + 20'(SIMD);
            atrow_q  <= achunk_q + 20'(SIMD);
            atap_q   <= achunk_q + 20'(SIMD);
          end else begin
            k_q    <= '0;
            koff_q <= '0;
            if (!row_end) begin
              px_q     <= px_q + 12'd1;
              ix0_q    <= ix0_q + $signed({10'd0, sw_i});
              ix_q     <= ix0_q + $signed({10'd0, sw_i});
              awin_q   <= awin_q + col_step_i;
              achunk_q <= awin_q + col_step_i;
              atrow_q  <= awin_q + col_step_i;
              atap_q   <= awin_q + col_step_i;
              ypix_q   <= ypix_q + y_step_i;
              bpix_q   <= bpix_q + b_step_i;
            end else if (!pix_end) begin
              px_q     <= '0;
              py_q     <= py_q + 12'd1;
              iy0_q    <= iy0_q + $signed({10'd0, sh_i});
              iy_q     <= iy0_q + $signed({10'd0, sh_i});
              ix0_q    <= -$signed({10'd0, pad_l_i});
              ix_q     <= -$signed({10'd0, pad_l_i});
              arow_q   <= row_next;
              awin_q   <= row_next;
              achunk_q <= row_next;
              atrow_q  <= row_next;
              atap_q   <= row_next;
              ypix_q   <= ypix_q + y_step_i;
              bpix_q   <= bpix_q + b_step_i;
            end else begin
              flush_q <= 1'b1;  // only reached by a reduction (else img_end)
            end
          end
        end
      end
    end
  end

endmodule

`default_nettype wire
