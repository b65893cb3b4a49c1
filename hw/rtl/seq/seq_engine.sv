// The layer-sequential engine: runs a compiled program (docs/seq_program.md) from DDR on one
// PE×SIMD MAC array. An AXI4-Lite slave (seq_csr, docs/seq_registers.md) for control and
// status, an AXI4 master (axi_dma) for program, weights, parameters, input and output records.
//
// seq_ctrl fetches the header and each instruction and starts its unit: seq_io (LOAD, STORE),
// seq_mac (MAC), seq_exit (EXIT), seq_vec (every other opcode). Units run one at a time; the
// running one gets the activation buffer's read and write ports and the DMA read channel;
// seq_io alone writes to DDR.
`default_nettype none

module seq_engine #(
  parameter int unsigned PE          = 4,      // MAC array rows (output channels), 1..SIMD
  parameter int unsigned SIMD        = 8,      // MAC array columns, a power of two 1..128
  parameter int unsigned ACT_BYTES   = 65536,  // activation buffer, a multiple of SIMD
  parameter int unsigned TILE_BYTES  = 16384,  // one of the two weight-tile buffers
  parameter int unsigned MAX_BURST   = 16,     // AXI beats per burst, 1..256
  parameter int unsigned OUTSTANDING = 4,      // AXI bursts in flight per direction
  parameter int unsigned MAX_C       = 1024,   // vector unit: channels of PRELU/GAVG/GWAP
  parameter bit          UNIT_M      = 1'b0    // shift-only requantisers (every M = 1)
) (
  input  wire         clk,
  input  wire         rst_n,            // synchronous, active low

  // AXI4-Lite slave: registers
  `HCCR_AXIL_S_PORTS,

  // AXI4 master: DDR
  `HCCR_AXI_M_WRITE_PORTS,
  `HCCR_AXI_M_READ_PORTS,

  output logic        irq_o             // STATUS.DONE while CTRL.IRQ_EN (level)
);

  localparam int unsigned LW = $clog2(SIMD + 1);  // write length bits
  localparam int unsigned NU = 4;  // units: 0 seq_io, 1 seq_mac, 2 seq_vec, 3 seq_exit

  if (ACT_BYTES > (1 << 20)) begin : g_bad_act
    $fatal(1, "seq_engine: ACT_BYTES=%0d exceeds the 20-bit activation address", ACT_BYTES);
  end

  // ---- registers
  logic        start, busy, done, error, stall, image_done;
  logic [7:0]  error_code;
  logic        exit_pulse, exit_jump;  // seq_exit: an image left; the whole batch has left
  logic [7:0]  exit_point;            // where exit_pulse's image left
  logic [31:0] program_base, program_bytes, data_base, input_base, output_base, image_count;

  seq_csr #(.PE(PE), .SIMD(SIMD), .SEGMENTS(1), .VERSION(int'(seq_isa_pkg::VERSION))) u_csr (
    .clk,
    .rst_n,
    `HCCR_AXIL_S_CONNECT,
    .start_o         (start),
    .irq_o,
    .program_base_o  (program_base),
    .program_bytes_o (program_bytes),
    .data_base_o     (data_base),
    .input_base_o    (input_base),
    .output_base_o   (output_base),
    .image_count_o   (image_count),
    .busy_i          (busy),
    .done_i          (done),
    .error_i         (error),
    .error_code_i    (error_code),
    .stall_i         (stall),
    .image_done_i    (image_done),
    .exit_i          (exit_pulse),
    .exit_point_i    (exit_point)
  );

  // ---- DMA
  logic        dma_clear, dma_busy;
  logic [1:0]  dma_error;
  logic [31:0] rd_cmd_addr, rd_cmd_bytes, wr_cmd_addr, wr_cmd_bytes;
  logic        rd_cmd_valid, rd_cmd_ready, wr_cmd_valid, wr_cmd_ready, wr_done;
  logic [63:0] rd_tdata, wr_tdata;
  logic        rd_tvalid, rd_tready, rd_tlast, wr_tvalid, wr_tready;

  axi_dma #(.MAX_BURST(MAX_BURST), .OUTSTANDING(OUTSTANDING)) u_dma (
    .clk,
    .rst_n,
    .clear_i        (dma_clear),
    .rd_cmd_addr_i  (rd_cmd_addr),
    .rd_cmd_bytes_i (rd_cmd_bytes),
    .rd_cmd_valid_i (rd_cmd_valid),
    .rd_cmd_ready_o (rd_cmd_ready),
    .m_axis_tdata   (rd_tdata),
    .m_axis_tvalid  (rd_tvalid),
    .m_axis_tready  (rd_tready),
    .m_axis_tlast   (rd_tlast),
    .wr_cmd_addr_i  (wr_cmd_addr),
    .wr_cmd_bytes_i (wr_cmd_bytes),
    .wr_cmd_valid_i (wr_cmd_valid),
    .wr_cmd_ready_o (wr_cmd_ready),
    .s_axis_tdata   (wr_tdata),
    .s_axis_tvalid  (wr_tvalid),
    .s_axis_tready  (wr_tready),
    .wr_done_o      (wr_done),
    `HCCR_AXI_M_WRITE_CONNECT,
    `HCCR_AXI_M_READ_CONNECT,
    .busy_o         (dma_busy),
    .error_o        (dma_error)
  );

  // ---- controller
  seq_isa_pkg::instr_t instr;
  logic [1:0]  unit;
  logic        unit_start, abort;
  logic [7:0]  batch;
  logic [31:0] image_first, input_bytes, output_bytes;
  logic [19:0] act_image_bytes;
  logic [31:0] u_cmd_addr, u_cmd_bytes;
  logic        u_cmd_valid, u_cmd_ready, u_tvalid, u_tready, u_tlast;
  logic [63:0] u_tdata;
  logic        u_done, u_stall;

  seq_ctrl #(.PE(PE), .SIMD(SIMD), .ACT_BYTES(ACT_BYTES), .HAS_VEC(1'b1), .UNIT_M(UNIT_M))
    u_ctrl (
    .clk,
    .rst_n,
    .start_i             (start),
    .program_base_i      (program_base),
    .program_bytes_i     (program_bytes),
    .image_count_i       (image_count),
    .busy_o              (busy),
    .done_o              (done),
    .error_o             (error),
    .error_code_o        (error_code),
    .stall_o             (stall),
    .image_done_o        (image_done),
    .dma_clear_o         (dma_clear),
    .dma_busy_i          (dma_busy),
    .dma_error_i         (dma_error),
    .dma_rd_cmd_addr_o   (rd_cmd_addr),
    .dma_rd_cmd_bytes_o  (rd_cmd_bytes),
    .dma_rd_cmd_valid_o  (rd_cmd_valid),
    .dma_rd_cmd_ready_i  (rd_cmd_ready),
    .dma_tdata_i         (rd_tdata),
    .dma_tvalid_i        (rd_tvalid),
    .dma_tready_o        (rd_tready),
    .dma_tlast_i         (rd_tlast),
    .unit_rd_cmd_addr_i  (u_cmd_addr),
    .unit_rd_cmd_bytes_i (u_cmd_bytes),
    .unit_rd_cmd_valid_i (u_cmd_valid),
    .unit_rd_cmd_ready_o (u_cmd_ready),
    .unit_tdata_o        (u_tdata),
    .unit_tvalid_o       (u_tvalid),
    .unit_tready_i       (u_tready),
    .unit_tlast_o        (u_tlast),
    .instr_o             (instr),
    .unit_o              (unit),
    .start_o             (unit_start),
    .abort_o             (abort),
    .unit_done_i         (u_done),
    .unit_stall_i        (u_stall),
    .jump_i              (exit_jump),
    .batch_o             (batch),
    .image_first_o       (image_first),
    .act_image_bytes_o   (act_image_bytes),
    .input_bytes_o       (input_bytes),
    .output_bytes_o      (output_bytes)
  );

  // ---- units: per-unit ports, the running one (unit) muxed onto the shared resources
  logic [NU-1:0]        done_u, stall_u, rd_valid_u, wr_valid_u, cmd_valid_u, tready_u;
  logic [19:0]          rd_addr_u [NU];
  logic [19:0]          wr_addr_u [NU];
  logic [SIMD*8-1:0]    wr_data_u [NU];
  logic [LW-1:0]        wr_len_u [NU];
  logic [31:0]          cmd_addr_u [NU];
  logic [31:0]          cmd_bytes_u [NU];
  logic                 act_rd_valid;
  logic [SIMD*8-1:0]    act_rd_data;

  seq_io #(.SIMD(SIMD)) u_io (
    .clk,
    .rst_n,
    .start_i           (unit_start && unit == 2'd0),
    .abort_i           (abort),
    .instr_i           (instr),
    .batch_i           (batch),
    .act_image_bytes_i (act_image_bytes),
    .image_first_i     (image_first),
    .input_base_i      (input_base),
    .input_bytes_i     (input_bytes),
    .output_base_i     (output_base),
    .output_bytes_i    (output_bytes),
    .done_o            (done_u[0]),
    .stall_o           (stall_u[0]),
    .act_rd_valid_o    (rd_valid_u[0]),
    .act_rd_addr_o     (rd_addr_u[0]),
    .act_rd_valid_i    (act_rd_valid),
    .act_rd_data_i     (act_rd_data),
    .act_wr_valid_o    (wr_valid_u[0]),
    .act_wr_addr_o     (wr_addr_u[0]),
    .act_wr_data_o     (wr_data_u[0]),
    .act_wr_len_o      (wr_len_u[0]),
    .rd_cmd_addr_o     (cmd_addr_u[0]),
    .rd_cmd_bytes_o    (cmd_bytes_u[0]),
    .rd_cmd_valid_o    (cmd_valid_u[0]),
    .rd_cmd_ready_i    (u_cmd_ready && unit == 2'd0),
    .s_axis_tdata      (u_tdata),
    .s_axis_tvalid     (u_tvalid && unit == 2'd0),
    .s_axis_tready     (tready_u[0]),
    .s_axis_tlast      (u_tlast),
    .wr_cmd_addr_o     (wr_cmd_addr),
    .wr_cmd_bytes_o    (wr_cmd_bytes),
    .wr_cmd_valid_o    (wr_cmd_valid),
    .wr_cmd_ready_i    (wr_cmd_ready),
    .m_axis_tdata      (wr_tdata),
    .m_axis_tvalid     (wr_tvalid),
    .m_axis_tready     (wr_tready),
    .wr_done_i         (wr_done)
  );

  seq_mac #(.PE(PE), .SIMD(SIMD), .TILE_BYTES(TILE_BYTES), .ACT_BYTES(ACT_BYTES),
           .UNIT_M(UNIT_M)) u_mac (
    .clk,
    .rst_n,
    .start_i           (unit_start && unit == 2'd1),
    .abort_i           (abort),
    .instr_i           (instr),
    .batch_i           (batch),
    .act_image_bytes_i (act_image_bytes),
    .data_base_i       (data_base),
    .flush_i           (!busy),
    .done_o            (done_u[1]),
    .stall_o           (stall_u[1]),
    .act_rd_valid_o    (rd_valid_u[1]),
    .act_rd_addr_o     (rd_addr_u[1]),
    .act_rd_valid_i    (act_rd_valid),
    .act_rd_data_i     (act_rd_data),
    .act_wr_valid_o    (wr_valid_u[1]),
    .act_wr_addr_o     (wr_addr_u[1]),
    .act_wr_data_o     (wr_data_u[1]),
    .act_wr_len_o      (wr_len_u[1]),
    .rd_cmd_addr_o     (cmd_addr_u[1]),
    .rd_cmd_bytes_o    (cmd_bytes_u[1]),
    .rd_cmd_valid_o    (cmd_valid_u[1]),
    .rd_cmd_ready_i    (u_cmd_ready && unit == 2'd1),
    .s_axis_tdata      (u_tdata),
    .s_axis_tvalid     (u_tvalid && unit == 2'd1),
    .s_axis_tready     (tready_u[1]),
    .s_axis_tlast      (u_tlast)
  );

  seq_vec #(.SIMD(SIMD), .MAX_C(MAX_C), .UNIT_M(UNIT_M)) u_vec (
    .clk,
    .rst_n,
    .start_i           (unit_start && unit == 2'd2),
    .instr_i           (instr),
    .batch_i           (batch),
    .act_image_bytes_i (act_image_bytes),
    .image_first_i     (image_first),
    .data_base_i       (data_base),
    .input_base_i      (input_base),
    .input_bytes_i     (input_bytes),
    .output_base_i     (output_base),
    .output_bytes_i    (output_bytes),
    .done_o            (done_u[2]),
    .stall_o           (stall_u[2]),
    .abort_i           (abort),
    .act_rd_valid_o    (rd_valid_u[2]),
    .act_rd_addr_o     (rd_addr_u[2]),
    .act_rd_valid_i    (act_rd_valid),
    .act_rd_data_i     (act_rd_data),
    .act_wr_valid_o    (wr_valid_u[2]),
    .act_wr_addr_o     (wr_addr_u[2]),
    .act_wr_data_o     (wr_data_u[2]),
    .act_wr_len_o      (wr_len_u[2]),
    .rd_cmd_addr_o     (cmd_addr_u[2]),
    .rd_cmd_bytes_o    (cmd_bytes_u[2]),
    .rd_cmd_valid_o    (cmd_valid_u[2]),
    .rd_cmd_ready_i    (u_cmd_ready && unit == 2'd2),
    .s_axis_tdata      (u_tdata),
    .s_axis_tvalid     (u_tvalid && unit == 2'd2),
    .s_axis_tready     (tready_u[2]),
    .s_axis_tlast      (u_tlast)
  );

  seq_exit #(.SIMD(SIMD)) u_exit (
    .clk,
    .rst_n,
    .start_i           (unit_start && unit == 2'd3),
    .instr_i           (instr),
    .batch_i           (batch),
    .act_image_bytes_i (act_image_bytes),
    .data_base_i       (data_base),
    .done_o            (done_u[3]),
    .stall_o           (stall_u[3]),
    .abort_i           (abort),
    .jump_o            (exit_jump),
    .exit_o            (exit_pulse),
    .exit_point_o      (exit_point),
    .act_rd_valid_o    (rd_valid_u[3]),
    .act_rd_addr_o     (rd_addr_u[3]),
    .act_rd_valid_i    (act_rd_valid),
    .act_rd_data_i     (act_rd_data),
    .act_wr_valid_o    (wr_valid_u[3]),
    .act_wr_addr_o     (wr_addr_u[3]),
    .act_wr_data_o     (wr_data_u[3]),
    .act_wr_len_o      (wr_len_u[3]),
    .rd_cmd_addr_o     (cmd_addr_u[3]),
    .rd_cmd_bytes_o    (cmd_bytes_u[3]),
    .rd_cmd_valid_o    (cmd_valid_u[3]),
    .rd_cmd_ready_i    (u_cmd_ready && unit == 2'd3),
    .s_axis_tdata      (u_tdata),
    .s_axis_tvalid     (u_tvalid && unit == 2'd3),
    .s_axis_tready     (tready_u[3]),
    .s_axis_tlast      (u_tlast)
  );

  logic [1:0] sel;  // the running unit's index
  assign sel         = unit;
  assign u_done      = done_u[sel];
  assign u_stall     = stall_u[sel];
  assign u_cmd_addr  = cmd_addr_u[sel];
  assign u_cmd_bytes = cmd_bytes_u[sel];
  assign u_cmd_valid = cmd_valid_u[sel];
  assign u_tready    = tready_u[sel];

  seq_act_buf #(.SIMD(SIMD), .ACT_BYTES(ACT_BYTES)) u_act (
    .clk,
    .rst_n,
    .rd_valid_i (rd_valid_u[sel]),
    .rd_addr_i  (rd_addr_u[sel]),
    .rd_valid_o (act_rd_valid),
    .rd_data_o  (act_rd_data),
    .wr_valid_i (wr_valid_u[sel]),
    .wr_addr_i  (wr_addr_u[sel]),
    .wr_data_i  (wr_data_u[sel]),
    .wr_len_i   (wr_len_u[sel])
  );

endmodule

`default_nettype wire
