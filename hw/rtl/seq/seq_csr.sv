// Control and status registers of the layer-sequential engine: an AXI4-Lite slave around the
// register block that hw/gen/seq_regs.py generates from regs.rdl (seq_regs, peakrdl-regblock),
// with flat ports on both sides and the run counters.
//
// The map is in docs/seq_registers.md. 32-bit addresses as a Zynq GP port gives them, decoded
// over the low SEQ_REGS_MIN_ADDR_WIDTH bits (the map repeats above its 128 bytes); an access
// to an unmapped offset gets SLVERR. Counters: a START accepted while idle (start_o with
// busy_i low) clears them; CYCLES counts cycles with busy_i high, STALL those with busy_i and
// stall_i high, IMAGES_DONE the image_done_i pulses, EXITS_n the exit_i pulses at point n
// (EXITS_3: point 3 or later). STATUS.DONE is set by done_i and cleared by writing 1;
// irq_o = CTRL.IRQ_EN & STATUS.DONE (level).
`default_nettype none

module seq_csr #(
  parameter int unsigned PE       = 1,  // CONFIG.PE, 1..255
  parameter int unsigned SIMD     = 1,  // CONFIG.SIMD, 1..255
  parameter int unsigned SEGMENTS = 1,  // CONFIG.SEGMENTS, 1..255
  parameter int unsigned VERSION  = 1   // CONFIG.VERSION, 0..255
) (
  input  wire         clk,
  input  wire         rst_n,            // synchronous, active low

  // AXI4-Lite slave
  `HCCR_AXIL_S_PORTS,

  // to the engine
  output logic        start_o,          // one-cycle pulse: CTRL.START was written with 1
  output logic        irq_o,            // interrupt line (level)
  output logic [31:0] program_base_o,
  output logic [31:0] program_bytes_o,
  output logic [31:0] data_base_o,
  output logic [31:0] input_base_o,
  output logic [31:0] output_base_o,
  output logic [31:0] image_count_o,

  // from the engine
  input  wire         busy_i,           // a run is in progress
  input  wire         done_i,           // pulse: the run ended (sets STATUS.DONE)
  input  wire         error_i,          // the last run failed (STATUS.ERROR)
  input  wire  [7:0]  error_code_i,     // why (ERROR_CODE, seq_error_e)
  input  wire         stall_i,          // this cycle waits for DDR
  input  wire         image_done_i,     // pulse: an image's output record is written
  input  wire         exit_i,           // pulse: an image left at an early exit
  input  wire  [7:0]  exit_point_i      // which (EXITS_0..3; points above 3 count in EXITS_3)
);

  localparam int unsigned AW = seq_regs_pkg::SEQ_REGS_MIN_ADDR_WIDTH;  // decoded address bits

  if (PE < 1 || PE > 255 || SIMD < 1 || SIMD > 255 || SEGMENTS < 1 || SEGMENTS > 255
      || VERSION > 255) begin : g_bad_config
    $fatal(1, "seq_csr: PE=%0d, SIMD=%0d, SEGMENTS=%0d must be 1..255, VERSION=%0d 0..255",
           PE, SIMD, SEGMENTS, VERSION);
  end

  seq_regs_pkg::seq_regs__in_t  hwif_in;
  seq_regs_pkg::seq_regs__out_t hwif_out;

  logic [63:0] cycles_q;
  logic [63:0] stall_q;
  logic [31:0] images_q;
  logic [31:0] exits_q [4];
  logic        clear;

  assign clear = start_o & ~busy_i;

  always_ff @(posedge clk) begin
    if (!rst_n || clear) begin
      cycles_q <= '0;
      stall_q  <= '0;
      images_q <= '0;
      exits_q[0] <= '0;
      exits_q[1] <= '0;
      exits_q[2] <= '0;
      exits_q[3] <= '0;
    end else begin
      if (busy_i) begin
        cycles_q <= cycles_q + 64'd1;
      end
      if (busy_i && stall_i) begin
        stall_q <= stall_q + 64'd1;
      end
      if (image_done_i) begin
        images_q <= images_q + 32'd1;
      end
      if (exit_i) begin
        exits_q[exit_point_i > 8'd3 ? 2'd3 : exit_point_i[1:0]] <=
            exits_q[exit_point_i > 8'd3 ? 2'd3 : exit_point_i[1:0]] + 32'd1;
      end
    end
  end

  always_comb begin
    hwif_in.CONFIG.PE.next          = 8'(PE);
    hwif_in.CONFIG.SIMD.next        = 8'(SIMD);
    hwif_in.CONFIG.SEGMENTS.next    = 8'(SEGMENTS);
    hwif_in.CONFIG.VERSION.next     = 8'(VERSION);
    hwif_in.STATUS.BUSY.next        = busy_i;
    hwif_in.STATUS.DONE.hwset       = done_i;
    hwif_in.STATUS.ERROR.next       = error_i;
    hwif_in.ERROR_CODE.CODE.next    = error_code_i;
    hwif_in.CYCLES_LO.COUNT.next    = cycles_q[31:0];
    hwif_in.CYCLES_HI.COUNT.next    = cycles_q[63:32];
    hwif_in.STALL_LO.COUNT.next     = stall_q[31:0];
    hwif_in.STALL_HI.COUNT.next     = stall_q[63:32];
    hwif_in.IMAGES_DONE.COUNT.next  = images_q;
    hwif_in.EXITS_0.COUNT.next      = exits_q[0];
    hwif_in.EXITS_1.COUNT.next      = exits_q[1];
    hwif_in.EXITS_2.COUNT.next      = exits_q[2];
    hwif_in.EXITS_3.COUNT.next      = exits_q[3];
  end

  assign start_o         = hwif_out.CTRL.START.value;
  assign irq_o           = hwif_out.CTRL.IRQ_EN.value & hwif_out.STATUS.DONE.value;
  assign program_base_o  = hwif_out.PROGRAM_BASE.ADDR.value;
  assign program_bytes_o = hwif_out.PROGRAM_BYTES.BYTES.value;
  assign data_base_o     = hwif_out.DATA_BASE.ADDR.value;
  assign input_base_o    = hwif_out.INPUT_BASE.ADDR.value;
  assign output_base_o   = hwif_out.OUTPUT_BASE.ADDR.value;
  assign image_count_o   = hwif_out.IMAGE_COUNT.COUNT.value;

  seq_regs u_regs (
    .clk,
    .rst_n,
    .s_axil_awready,
    .s_axil_awvalid,
    .s_axil_awaddr  (s_axil_awaddr[AW-1:0]),
    .s_axil_awprot,
    .s_axil_wready,
    .s_axil_wvalid,
    .s_axil_wdata,
    .s_axil_wstrb,
    .s_axil_bready,
    .s_axil_bvalid,
    .s_axil_bresp,
    .s_axil_arready,
    .s_axil_arvalid,
    .s_axil_araddr  (s_axil_araddr[AW-1:0]),
    .s_axil_arprot,
    .s_axil_rready,
    .s_axil_rvalid,
    .s_axil_rdata,
    .s_axil_rresp,
    .hwif_in,
    .hwif_out
  );

  logic unused;
  assign unused = ^{s_axil_awaddr[31:AW], s_axil_araddr[31:AW]};

endmodule

`default_nettype wire
