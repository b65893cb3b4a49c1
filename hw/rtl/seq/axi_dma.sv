// AXI4 master DMA of the layer-sequential engine: axi_dma_rd (AR, R) and axi_dma_wr (AW, W, B)
// side by side on one AXI4 master port with the full signal set (m_axi_*), 64-bit data and
// 32-bit addresses, so that Vivado infers one AXI4 interface (a Zynq-7000 S_AXI_HP port
// takes it through its AXI3 converter with MAX_BURST <= 16).
//
// Read: rd_cmd_* commands in, 64-bit words out on m_axis (tlast on each command's final
// word). Write: wr_cmd_* commands and their words on s_axis in, wr_done_o pulses when a
// command's last burst is acknowledged. error_o[0] (read) and error_o[1] (write) are sticky:
// an SLVERR/DECERR response on that channel; see axi_dma_rd.sv / axi_dma_wr.sv for how each
// side drains and stops. clear_i clears them while busy_o is low.
`default_nettype none

module axi_dma #(
  parameter int unsigned MAX_BURST   = 16,  // beats per burst, 1..256 (16 for AXI3 HP ports)
  parameter int unsigned OUTSTANDING = 4    // bursts in flight per direction, 1..64
) (
  input  wire         clk,
  input  wire         rst_n,            // synchronous, active low
  input  wire         clear_i,          // clear error_o and the buffers (while !busy_o)

  input  wire  [31:0] rd_cmd_addr_i,    // byte address, 8-byte aligned
  input  wire  [31:0] rd_cmd_bytes_i,   // byte count, a multiple of 8
  input  wire         rd_cmd_valid_i,
  output logic        rd_cmd_ready_o,
  output logic [63:0] m_axis_tdata,
  output logic        m_axis_tvalid,
  input  wire         m_axis_tready,
  output logic        m_axis_tlast,

  input  wire  [31:0] wr_cmd_addr_i,    // byte address, 8-byte aligned
  input  wire  [31:0] wr_cmd_bytes_i,   // byte count, a multiple of 8
  input  wire         wr_cmd_valid_i,
  output logic        wr_cmd_ready_o,
  input  wire  [63:0] s_axis_tdata,
  input  wire         s_axis_tvalid,
  output logic        s_axis_tready,
  output logic        wr_done_o,        // pulse: a write command's data is in memory

  output logic [0:0]  m_axi_awid,
  output logic [31:0] m_axi_awaddr,
  output logic [7:0]  m_axi_awlen,
  output logic [2:0]  m_axi_awsize,
  output logic [1:0]  m_axi_awburst,
  output logic        m_axi_awlock,
  output logic [3:0]  m_axi_awcache,
  output logic [2:0]  m_axi_awprot,
  output logic [3:0]  m_axi_awqos,
  output logic        m_axi_awvalid,
  input  wire         m_axi_awready,
  output logic [63:0] m_axi_wdata,
  output logic [7:0]  m_axi_wstrb,
  output logic        m_axi_wlast,
  output logic        m_axi_wvalid,
  input  wire         m_axi_wready,
  input  wire  [0:0]  m_axi_bid,
  input  wire  [1:0]  m_axi_bresp,
  input  wire         m_axi_bvalid,
  output logic        m_axi_bready,
  output logic [0:0]  m_axi_arid,
  output logic [31:0] m_axi_araddr,
  output logic [7:0]  m_axi_arlen,
  output logic [2:0]  m_axi_arsize,
  output logic [1:0]  m_axi_arburst,
  output logic        m_axi_arlock,
  output logic [3:0]  m_axi_arcache,
  output logic [2:0]  m_axi_arprot,
  output logic [3:0]  m_axi_arqos,
  output logic        m_axi_arvalid,
  input  wire         m_axi_arready,
  input  wire  [0:0]  m_axi_rid,
  input  wire  [63:0] m_axi_rdata,
  input  wire  [1:0]  m_axi_rresp,
  input  wire         m_axi_rlast,
  input  wire         m_axi_rvalid,
  output logic        m_axi_rready,

  output logic        busy_o,           // either side has work or a burst in flight
  output logic [1:0]  error_o           // sticky: [0] read, [1] write response error
);

  logic rd_busy;
  logic wr_busy;

  axi_dma_rd #(.MAX_BURST(MAX_BURST), .OUTSTANDING(OUTSTANDING)) u_rd (
    .clk,
    .rst_n,
    .clear_i,
    .cmd_addr_i    (rd_cmd_addr_i),
    .cmd_bytes_i   (rd_cmd_bytes_i),
    .cmd_valid_i   (rd_cmd_valid_i),
    .cmd_ready_o   (rd_cmd_ready_o),
    .m_axis_tdata,
    .m_axis_tvalid,
    .m_axis_tready,
    .m_axis_tlast,
    .m_axi_arid,
    .m_axi_araddr,
    .m_axi_arlen,
    .m_axi_arsize,
    .m_axi_arburst,
    .m_axi_arlock,
    .m_axi_arcache,
    .m_axi_arprot,
    .m_axi_arqos,
    .m_axi_arvalid,
    .m_axi_arready,
    .m_axi_rid,
    .m_axi_rdata,
    .m_axi_rresp,
    .m_axi_rlast,
    .m_axi_rvalid,
    .m_axi_rready,
    .busy_o        (rd_busy),
    .error_o       (error_o[0])
  );

  axi_dma_wr #(.MAX_BURST(MAX_BURST), .OUTSTANDING(OUTSTANDING)) u_wr (
    .clk,
    .rst_n,
    .clear_i,
    .cmd_addr_i    (wr_cmd_addr_i),
    .cmd_bytes_i   (wr_cmd_bytes_i),
    .cmd_valid_i   (wr_cmd_valid_i),
    .cmd_ready_o   (wr_cmd_ready_o),
    .s_axis_tdata,
    .s_axis_tvalid,
    .s_axis_tready,
    .m_axi_awid,
    .m_axi_awaddr,
    .m_axi_awlen,
    .m_axi_awsize,
    .m_axi_awburst,
    .m_axi_awlock,
    .m_axi_awcache,
    .m_axi_awprot,
    .m_axi_awqos,
    .m_axi_awvalid,
    .m_axi_awready,
    .m_axi_wdata,
    .m_axi_wstrb,
    .m_axi_wlast,
    .m_axi_wvalid,
    .m_axi_wready,
    .m_axi_bid,
    .m_axi_bresp,
    .m_axi_bvalid,
    .m_axi_bready,
    .done_o        (wr_done_o),
    .busy_o        (wr_busy),
    .error_o       (error_o[1])
  );

  assign busy_o = rd_busy || wr_busy;

endmodule

`default_nettype wire
