// Port lists of the engine's AXI interfaces, written once: an AXI4 master (64-bit data,
// 32-bit addresses, one ID bit; the full signal set, so that Vivado infers one interface)
// split into its write (AW, W, B) and read (AR, R) channels, an AXI4-Lite slave (32-bit),
// the DDR model's slave address channels, and the DMA's command inputs and control ports.
// `HCCR_*_PORTS declare the ports in a module header, `HCCR_*_CONNECT connect them by name
// (.m_axi_awid, ...) to the same names one level up; like the macros of hccr_pkg.sv, a list
// ends without a comma. Macros, not SV interfaces: Yosys reads no interfaces. Compiled before
// the files that use it (first in every file list).
`ifndef HCCR_AXI_SVH
`define HCCR_AXI_SVH

`define HCCR_AXI_M_WRITE_PORTS \
  output logic [0:0]  m_axi_awid,    \
  output logic [31:0] m_axi_awaddr,  \
  output logic [7:0]  m_axi_awlen,   \
  output logic [2:0]  m_axi_awsize,  \
  output logic [1:0]  m_axi_awburst, \
  output logic        m_axi_awlock,  \
  output logic [3:0]  m_axi_awcache, \
  output logic [2:0]  m_axi_awprot,  \
  output logic [3:0]  m_axi_awqos,   \
  output logic        m_axi_awvalid, \
  input  wire         m_axi_awready, \
  output logic [63:0] m_axi_wdata,   \
  output logic [7:0]  m_axi_wstrb,   \
  output logic        m_axi_wlast,   \
  output logic        m_axi_wvalid,  \
  input  wire         m_axi_wready,  \
  input  wire  [0:0]  m_axi_bid,     \
  input  wire  [1:0]  m_axi_bresp,   \
  input  wire         m_axi_bvalid,  \
  output logic        m_axi_bready

`define HCCR_AXI_M_READ_PORTS \
  output logic [0:0]  m_axi_arid,    \
  output logic [31:0] m_axi_araddr,  \
  output logic [7:0]  m_axi_arlen,   \
  output logic [2:0]  m_axi_arsize,  \
  output logic [1:0]  m_axi_arburst, \
  output logic        m_axi_arlock,  \
  output logic [3:0]  m_axi_arcache, \
  output logic [2:0]  m_axi_arprot,  \
  output logic [3:0]  m_axi_arqos,   \
  output logic        m_axi_arvalid, \
  input  wire         m_axi_arready, \
  input  wire  [0:0]  m_axi_rid,     \
  input  wire  [63:0] m_axi_rdata,   \
  input  wire  [1:0]  m_axi_rresp,   \
  input  wire         m_axi_rlast,   \
  input  wire         m_axi_rvalid,  \
  output logic        m_axi_rready

`define HCCR_AXI_M_WRITE_CONNECT \
  .m_axi_awid, .m_axi_awaddr, .m_axi_awlen, .m_axi_awsize, .m_axi_awburst, .m_axi_awlock, \
  .m_axi_awcache, .m_axi_awprot, .m_axi_awqos, .m_axi_awvalid, .m_axi_awready, \
  .m_axi_wdata, .m_axi_wstrb, .m_axi_wlast, .m_axi_wvalid, .m_axi_wready, .m_axi_bid, \
  .m_axi_bresp, .m_axi_bvalid, .m_axi_bready

`define HCCR_AXI_M_READ_CONNECT \
  .m_axi_arid, .m_axi_araddr, .m_axi_arlen, .m_axi_arsize, .m_axi_arburst, .m_axi_arlock, \
  .m_axi_arcache, .m_axi_arprot, .m_axi_arqos, .m_axi_arvalid, .m_axi_arready, .m_axi_rid, \
  .m_axi_rdata, .m_axi_rresp, .m_axi_rlast, .m_axi_rvalid, .m_axi_rready

`define HCCR_AXIL_S_PORTS \
  input  wire  [31:0] s_axil_awaddr,  \
  input  wire  [2:0]  s_axil_awprot,  \
  input  wire         s_axil_awvalid, \
  output logic        s_axil_awready, \
  input  wire  [31:0] s_axil_wdata,   \
  input  wire  [3:0]  s_axil_wstrb,   \
  input  wire         s_axil_wvalid,  \
  output logic        s_axil_wready,  \
  output logic [1:0]  s_axil_bresp,   \
  output logic        s_axil_bvalid,  \
  input  wire         s_axil_bready,  \
  input  wire  [31:0] s_axil_araddr,  \
  input  wire  [2:0]  s_axil_arprot,  \
  input  wire         s_axil_arvalid, \
  output logic        s_axil_arready, \
  output logic [31:0] s_axil_rdata,   \
  output logic [1:0]  s_axil_rresp,   \
  output logic        s_axil_rvalid,  \
  input  wire         s_axil_rready

`define HCCR_AXIL_S_CONNECT \
  .s_axil_awaddr, .s_axil_awprot, .s_axil_awvalid, .s_axil_awready, .s_axil_wdata, \
  .s_axil_wstrb, .s_axil_wvalid, .s_axil_wready, .s_axil_bresp, .s_axil_bvalid, \
  .s_axil_bready, .s_axil_araddr, .s_axil_arprot, .s_axil_arvalid, .s_axil_arready, \
  .s_axil_rdata, .s_axil_rresp, .s_axil_rvalid, .s_axil_rready

// A DMA command input P: P_addr_i (byte address, 8-byte aligned), P_bytes_i (byte count, a
// multiple of 8), P_valid_i and P_ready_o; HCCR_DMA_CMD_CONNECT(P) connects it by name.
`define HCCR_DMA_CMD_PORTS(P) \
  input  wire  [31:0] P``_addr_i,  \
  input  wire  [31:0] P``_bytes_i, \
  input  wire         P``_valid_i, \
  output logic        P``_ready_o

`define HCCR_DMA_CMD_CONNECT(P) \
  .P``_addr_i, .P``_bytes_i, .P``_valid_i, .P``_ready_o

// The control ports of a DMA side (axi_dma_rd, axi_dma_wr): clock, synchronous active-low
// reset, clear_i (clear error_o and the buffers, only while busy_o is low) and the command
// input cmd.
`define HCCR_DMA_SIDE_PORTS \
  input  wire         clk,     \
  input  wire         rst_n,   \
  input  wire         clear_i, \
  `HCCR_DMA_CMD_PORTS(cmd)

// axi_burst's address channel (ax_*) connected to the master's AR (P = ar) or AW (P = aw).
`define HCCR_AXI_AX_CONNECT(P) \
  .ax_id_o    (m_axi_``P``id),    \
  .ax_addr_o  (m_axi_``P``addr),  \
  .ax_len_o   (m_axi_``P``len),   \
  .ax_size_o  (m_axi_``P``size),  \
  .ax_burst_o (m_axi_``P``burst), \
  .ax_lock_o  (m_axi_``P``lock),  \
  .ax_cache_o (m_axi_``P``cache), \
  .ax_prot_o  (m_axi_``P``prot),  \
  .ax_qos_o   (m_axi_``P``qos),   \
  .ax_valid_o (m_axi_``P``valid), \
  .ax_ready_i (m_axi_``P``ready)

// An AXI4 slave's address channel P (aw or ar) as the simulation DDR model takes it: address,
// length, size, burst type, valid and ready (no ID, lock, cache, prot or QoS).
`define HCCR_AXI_S_ADDR_PORTS(P) \
  input  wire  [31:0] s_axi_``P``addr,  \
  input  wire  [7:0]  s_axi_``P``len,   \
  input  wire  [2:0]  s_axi_``P``size,  \
  input  wire  [1:0]  s_axi_``P``burst, \
  input  wire         s_axi_``P``valid, \
  output logic        s_axi_``P``ready

`endif
