// Free-running harness of the layer-sequential engine (simulation only, not synthesisable):
// seq_engine, the DDR model (seq_ddr_model, preloaded from "ddr.mem") and an AXI4-Lite master
// that plays a register script from "seq_script.mem", so no Python runs per cycle.
//
// "seq_cfg.mem" (32-bit words, read at start-up so one build serves every run): DDR read
// latency, latency jitter mask, DDR bytes per cycle ×256, R pauses (0/1), LFSR seed, cycle
// limit, first and last DDR word to dump into "ddr_out.mem" at the end.
// "seq_script.mem" (64-bit entries, up to SCRIPT): [63:56] op (1 write, 2 wait for the
// interrupt, 3 read, 0 end), [47:32] register address, [31:0] data. Each read appends
// "<address> <value>" (hex) to "seq_reads.txt". done_o rises at the end of the script, or
// with error_o when the interrupt has not come within the cycle limit; cycles_o counts cycles
// from reset release to the interrupt.
`default_nettype none

module seq_freerun_top #(
  parameter int unsigned PE          = 4,
  parameter int unsigned SIMD        = 8,
  parameter int unsigned ACT_BYTES   = 65536,
  parameter int unsigned TILE_BYTES  = 16384,
  parameter int unsigned MAX_BURST   = 16,
  parameter int unsigned MAX_C       = 1024,
  parameter bit          UNIT_M      = 1'b0,   // shift-only requantisers (seq_engine)
  parameter int unsigned SCRIPT      = 64
) (
  output logic        done_o   /* verilator public_flat_rw */,
  output logic        error_o  /* verilator public_flat_rw */,
  output logic [63:0] cycles_o /* verilator public_flat_rw */
);

  logic clk, rst_n;
  initial begin
    clk = 1'b0;
    forever #5ns clk = ~clk;
  end
  initial begin
    rst_n = 1'b0;
    repeat (5) @(posedge clk);
    rst_n = 1'b1;
  end

  logic [31:0] cfg [8];
  logic [63:0] script [SCRIPT];
  int          fd;
  initial begin
    for (int i = 0; i < 8; i++) cfg[i] = '0;
    for (int i = 0; i < int'(SCRIPT); i++) script[i] = '0;
    $readmemh("seq_cfg.mem", cfg);
    $readmemh("seq_script.mem", script);
    fd = $fopen("seq_reads.txt", "w");
  end

  // ---- AXI4-Lite master (one transfer at a time) and the script
  logic [31:0] awaddr, wdata, araddr, rdata;
  logic        awvalid, awready, wvalid, wready, bvalid, bready;
  logic        arvalid, arready, rvalid, rready;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [1:0]  bresp, rresp;  // the register block answers OKAY
  /* verilator lint_on UNUSEDSIGNAL */
  logic        irq, dump;

  typedef enum logic [2:0] {FETCH, WRITE, WAIT_B, READ, WAIT_R, WAIT_IRQ, FINISH} state_t;
  state_t      state;
  logic [$clog2(SCRIPT+1)-1:0] pc;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [63:0] entry;  // [55:48] reserved
  /* verilator lint_on UNUSEDSIGNAL */
  assign entry = script[pc[$clog2(SCRIPT)-1:0]];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      state <= FETCH; pc <= '0; done_o <= 1'b0; error_o <= 1'b0; cycles_o <= '0;
      awvalid <= 1'b0; wvalid <= 1'b0; bready <= 1'b0; arvalid <= 1'b0; rready <= 1'b0;
      awaddr <= '0; wdata <= '0; araddr <= '0; dump <= 1'b0;
    end else begin
      dump <= 1'b0;
      if (!irq && !done_o) cycles_o <= cycles_o + 1;
      case (state)
        FETCH: begin
          pc <= pc + 1'b1;
          case (entry[63:56])
            8'd1: begin
              awaddr <= {16'd0, entry[47:32]}; wdata <= entry[31:0];
              awvalid <= 1'b1; wvalid <= 1'b1; state <= WRITE;
            end
            8'd2: state <= WAIT_IRQ;
            8'd3: begin araddr <= {16'd0, entry[47:32]}; arvalid <= 1'b1; state <= READ; end
            default: begin dump <= 1'b1; state <= FINISH; end
          endcase
        end
        WRITE: begin
          if (awready) awvalid <= 1'b0;
          if (wready) wvalid <= 1'b0;
          if ((awready || !awvalid) && (wready || !wvalid)) begin
            bready <= 1'b1; state <= WAIT_B;
          end
        end
        WAIT_B: if (bvalid) begin bready <= 1'b0; state <= FETCH; end
        READ: if (arready) begin arvalid <= 1'b0; rready <= 1'b1; state <= WAIT_R; end
        WAIT_R: if (rvalid) begin
          $fwrite(fd, "%h %h\n", araddr[15:0], rdata);
          rready <= 1'b0; state <= FETCH;
        end
        WAIT_IRQ: begin
          if (irq) state <= FETCH;
          else if (cycles_o >= 64'(cfg[5])) begin error_o <= 1'b1; dump <= 1'b1; state <= FINISH; end
        end
        FINISH: begin $fclose(fd); done_o <= 1'b1; end
        default: state <= FINISH;
      endcase
    end
  end

  // ---- engine and DDR
  logic [0:0]  bid, rid;
  /* verilator lint_off UNUSEDSIGNAL */  // AXI attributes the DDR model ignores
  logic [0:0]  awid, arid;
  logic [31:0] m_awaddr, m_araddr;
  logic [7:0]  m_awlen, m_arlen, m_wstrb;
  logic [2:0]  m_awsize, m_arsize, awprot_u, arprot_u;
  logic [1:0]  m_awburst, m_arburst, m_bresp, m_rresp;
  logic        awlock_u, arlock_u;
  logic [3:0]  awcache_u, arcache_u, awqos_u, arqos_u;
  /* verilator lint_on UNUSEDSIGNAL */
  logic        m_awvalid, m_awready, m_wlast, m_wvalid, m_wready, m_bvalid, m_bready;
  logic        m_arvalid, m_arready, m_rlast, m_rvalid, m_rready;
  logic [63:0] m_wdata, m_rdata;
  assign bid = '0;
  assign rid = '0;

  seq_engine #(.PE(PE), .SIMD(SIMD), .ACT_BYTES(ACT_BYTES), .TILE_BYTES(TILE_BYTES),
               .MAX_BURST(MAX_BURST), .MAX_C(MAX_C), .UNIT_M(UNIT_M)) u_engine (
    .clk, .rst_n,
    .s_axil_awaddr(awaddr), .s_axil_awprot(3'd0), .s_axil_awvalid(awvalid),
    .s_axil_awready(awready), .s_axil_wdata(wdata), .s_axil_wstrb(4'hF),
    .s_axil_wvalid(wvalid), .s_axil_wready(wready), .s_axil_bresp(bresp),
    .s_axil_bvalid(bvalid), .s_axil_bready(bready), .s_axil_araddr(araddr),
    .s_axil_arprot(3'd0), .s_axil_arvalid(arvalid), .s_axil_arready(arready),
    .s_axil_rdata(rdata), .s_axil_rresp(rresp), .s_axil_rvalid(rvalid),
    .s_axil_rready(rready),
    .m_axi_awid(awid), .m_axi_awaddr(m_awaddr), .m_axi_awlen(m_awlen),
    .m_axi_awsize(m_awsize), .m_axi_awburst(m_awburst), .m_axi_awlock(awlock_u),
    .m_axi_awcache(awcache_u), .m_axi_awprot(awprot_u), .m_axi_awqos(awqos_u),
    .m_axi_awvalid(m_awvalid), .m_axi_awready(m_awready), .m_axi_wdata(m_wdata),
    .m_axi_wstrb(m_wstrb), .m_axi_wlast(m_wlast), .m_axi_wvalid(m_wvalid),
    .m_axi_wready(m_wready), .m_axi_bid(bid), .m_axi_bresp(m_bresp),
    .m_axi_bvalid(m_bvalid), .m_axi_bready(m_bready), .m_axi_arid(arid),
    .m_axi_araddr(m_araddr), .m_axi_arlen(m_arlen), .m_axi_arsize(m_arsize),
    .m_axi_arburst(m_arburst), .m_axi_arlock(arlock_u), .m_axi_arcache(arcache_u),
    .m_axi_arprot(arprot_u), .m_axi_arqos(arqos_u), .m_axi_arvalid(m_arvalid),
    .m_axi_arready(m_arready), .m_axi_rid(rid), .m_axi_rdata(m_rdata),
    .m_axi_rresp(m_rresp), .m_axi_rlast(m_rlast), .m_axi_rvalid(m_rvalid),
    .m_axi_rready(m_rready), .irq_o(irq));

  seq_ddr_model u_ddr (
    .clk, .rst_n,
    .latency_i(cfg[0]), .jitter_i(cfg[1]), .rate_q8_i(cfg[2]), .rpause_i(cfg[3] != 0),
    .seed_i(cfg[4]), .dump_i(dump), .dump_lo_i(cfg[6]), .dump_hi_i(cfg[7]),
    .s_axi_awaddr(m_awaddr), .s_axi_awlen(m_awlen), .s_axi_awsize(m_awsize),
    .s_axi_awburst(m_awburst), .s_axi_awvalid(m_awvalid), .s_axi_awready(m_awready),
    .s_axi_wdata(m_wdata), .s_axi_wstrb(m_wstrb), .s_axi_wlast(m_wlast),
    .s_axi_wvalid(m_wvalid), .s_axi_wready(m_wready), .s_axi_bresp(m_bresp),
    .s_axi_bvalid(m_bvalid), .s_axi_bready(m_bready), .s_axi_araddr(m_araddr),
    .s_axi_arlen(m_arlen), .s_axi_arsize(m_arsize), .s_axi_arburst(m_arburst),
    .s_axi_arvalid(m_arvalid), .s_axi_arready(m_arready), .s_axi_rdata(m_rdata),
    .s_axi_rresp(m_rresp), .s_axi_rlast(m_rlast), .s_axi_rvalid(m_rvalid),
    .s_axi_rready(m_rready));

endmodule

`default_nettype wire
