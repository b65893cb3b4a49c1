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

  `HCCR_DMA_CMD_PORTS(rd_cmd),
  output logic [63:0] m_axis_tdata,
  output logic        m_axis_tvalid,
  input  wire         m_axis_tready,
  output logic        m_axis_tlast,

  `HCCR_DMA_CMD_PORTS(wr_cmd),
  input  wire  [63:0] s_axis_tdata,
  input  wire         s_axis_tvalid,
  output logic        s_axis_tready,
  output logic        wr_done_o,        // pulse: a write command's data is in memory

  `HCCR_AXI_M_WRITE_PORTS,
  `HCCR_AXI_M_READ_PORTS,

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
    `HCCR_AXI_M_READ_CONNECT,
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
    `HCCR_AXI_M_WRITE_CONNECT,
    .done_o        (wr_done_o),
    .busy_o        (wr_busy),
    .error_o       (error_o[1])
  );

  assign busy_o = rd_busy || wr_busy;

endmodule

`default_nettype wire
