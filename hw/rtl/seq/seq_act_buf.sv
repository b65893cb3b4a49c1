// Activation buffer of the layer-sequential engine: ACT_BYTES bytes in SIMD byte banks (bank =
// address mod SIMD, row = address div SIMD), one read and one write of up to SIMD bytes per
// cycle at any byte alignment.
//
// Read: rd_valid_i with rd_addr_i; exactly RD_LAT = 2 cycles later rd_valid_o and rd_data_o,
// byte l = mem[(addr + l) mod ACT_BYTES] (cycle 1: each bank reads its row, the rows past the
// wrap point one further; cycle 2: the bank outputs rotated into lane order). Fully pipelined.
// Write: wr_valid_i, wr_addr_i, wr_data_i, wr_len_i (1..SIMD): mem[addr + l] = wr_data[l] for
// l < len, in the same cycle's edge. A read of a byte written in the same cycle sees the old
// value. Addresses must be < ACT_BYTES (the units never issue one outside the buffer).
`default_nettype none

module seq_act_buf #(
  parameter int unsigned SIMD      = 8,      // bytes per read/write, a power of two 1..128
  parameter int unsigned ACT_BYTES = 65536,  // capacity, a multiple of SIMD, <= 2^20
  parameter int unsigned AW        = 20      // address width (the program's 20-bit fields)
) (
  input  wire                          clk,
  input  wire                          rst_n,       // synchronous, active low

  input  wire                          rd_valid_i,
  input  wire  [AW-1:0]                rd_addr_i,   // byte address, any alignment
  output logic                         rd_valid_o,  // RD_LAT cycles after rd_valid_i
  output logic [SIMD*8-1:0]            rd_data_o,   // lane l at [l*8 +: 8]

  input  wire                          wr_valid_i,
  input  wire  [AW-1:0]                wr_addr_i,   // byte address, any alignment
  input  wire  [SIMD*8-1:0]            wr_data_i,   // lane l at [l*8 +: 8]
  input  wire  [$clog2(SIMD+1)-1:0]    wr_len_i     // lanes written, 1..SIMD
);

  localparam int unsigned ROWS = ACT_BYTES / SIMD;               // bytes per bank
  localparam int unsigned BW   = SIMD > 1 ? $clog2(SIMD) : 1;    // bank index bits
  localparam int unsigned RW   = ROWS > 1 ? $clog2(ROWS) : 1;    // row index bits
  localparam int unsigned LW   = $clog2(SIMD + 1);               // length bits

  if (SIMD < 1 || SIMD > 128 || (SIMD & (SIMD - 1)) != 0) begin : g_bad_simd
    $fatal(1, "seq_act_buf: SIMD=%0d must be a power of two 1..128", SIMD);
  end
  if (ACT_BYTES < SIMD || ACT_BYTES % SIMD != 0 || ACT_BYTES > (1 << AW)) begin : g_bad_bytes
    $fatal(1, "seq_act_buf: ACT_BYTES=%0d must be a multiple of SIMD=%0d, at most 2^%0d",
           ACT_BYTES, SIMD, AW);
  end

  // Bank and row of an address; the row after `row`, wrapping at the buffer's end.
  function automatic logic [BW-1:0] bank_of(input logic [AW-1:0] a);
    bank_of = SIMD > 1 ? BW'(a % SIMD) : '0;
  endfunction
  function automatic logic [RW-1:0] row_of(input logic [AW-1:0] a);
    row_of = RW'(a / SIMD);
  endfunction
  function automatic logic [RW-1:0] next_row(input logic [RW-1:0] r);
    next_row = (32'(r) == ROWS - 1) ? '0 : r + RW'(1);
  endfunction

  logic [BW-1:0] rd_bank, wr_bank, rot_q;
  logic [RW-1:0] rd_row, wr_row;
  logic          v1_q, v2_q;
  logic [7:0]    bank_q [SIMD];  // cycle-1 read of each bank

  assign rd_bank = bank_of(rd_addr_i);
  assign rd_row  = row_of(rd_addr_i);
  assign wr_bank = bank_of(wr_addr_i);
  assign wr_row  = row_of(wr_addr_i);

  for (genvar b = 0; b < SIMD; b++) begin : g_bank
    logic [7:0] mem [ROWS];
    logic [BW-1:0] wr_lane;       // the write lane that lands in this bank
    logic          rd_up, wr_up;  // this bank's byte lies in the next row

    assign wr_lane = BW'(b) - wr_bank;
    if (b == SIMD - 1) begin : g_last
      assign rd_up = 1'b0;
      assign wr_up = 1'b0;
    end else begin : g_other
      assign rd_up = BW'(b) < rd_bank;
      assign wr_up = BW'(b) < wr_bank;
    end

    always_ff @(posedge clk) begin
      if (rd_valid_i) begin
        bank_q[b] <= mem[rd_up ? next_row(rd_row) : rd_row];
      end
      if (wr_valid_i && LW'(wr_lane) < wr_len_i) begin
        mem[wr_up ? next_row(wr_row) : wr_row] <= wr_data_i[wr_lane*8 +: 8];
      end
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      v1_q <= 1'b0;
      v2_q <= 1'b0;
    end else begin
      v1_q <= rd_valid_i;
      v2_q <= v1_q;
    end
    if (rd_valid_i) begin
      rot_q <= rd_bank;
    end
    if (v1_q) begin
      for (int l = 0; l < SIMD; l++) begin
        rd_data_o[l*8 +: 8] <= bank_q[BW'(l) + rot_q];
      end
    end
  end

  assign rd_valid_o = v2_q;

endmodule

`default_nettype wire
