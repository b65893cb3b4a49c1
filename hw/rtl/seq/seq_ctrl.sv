// Controller of the layer-sequential engine: fetches the program header and, for each batch of
// images, each instruction from DDR, and runs it on its unit (seq_io, seq_mac, seq_vec,
// seq_exit).
//
// On start_i while idle: read the 64-byte header at PROGRAM_BASE; refuse (ERROR_CODE 3) a wrong
// magic, version, PE, SIMD, a batch of 0 or an act_bytes above ACT_BYTES, and (ERROR_CODE 5) a
// PROGRAM_BYTES below 64·(instructions + 1). Then for each batch (images first ..
// first + batch − 1 of IMAGE_COUNT) and each instruction i: read its 64 bytes at PROGRAM_BASE +
// 64·(i + 1); END ends the batch (image_done_o pulses once per image); a `once` instruction
// runs its unit for one image (batch_o 1, image_first_o the batch's first + slot) or is skipped
// when the batch has no image `slot`; an EXIT runs on seq_exit and, when jump_i says every
// image of the batch has left, the batch goes on at the EXIT's `next`; an opcode outside
// opcode_e, or a vector opcode when HAS_VEC is 0, is ERROR_CODE 3; running past the header's
// instruction count is ERROR_CODE 5; otherwise start the unit (unit_o) and wait for its done.
// The controller owns the DMA read channel while it fetches and passes it to the running unit
// otherwise. A DMA error (dma_error_i[0] read, [1] write) aborts the unit and ends the run with
// ERROR_CODE 1 / 2 at once. A start while busy is ignored and reported as ERROR_CODE 4 when the
// run ends (if it had no other error). The DMA is cleared while the controller is idle.
`default_nettype none

module seq_ctrl #(
  parameter int unsigned PE        = 4,      // the array's PE (the header must match)
  parameter int unsigned SIMD      = 8,      // the array's SIMD (the header must match)
  parameter int unsigned ACT_BYTES = 65536,  // activation-buffer bytes
  parameter bit          HAS_VEC   = 1'b1,   // a vector unit is present
  parameter bit          UNIT_M    = 1'b0    // shift-only requantisers (header unit_m must be 1)
) (
  input  wire                  clk,
  input  wire                  rst_n,               // synchronous, active low

  // seq_csr
  input  wire                  start_i,
  input  wire  [31:0]          program_base_i,
  input  wire  [31:0]          program_bytes_i,
  input  wire  [31:0]          image_count_i,
  output logic                 busy_o,
  output logic                 done_o,              // pulse: the run ended
  output logic                 error_o,
  output logic [7:0]           error_code_o,
  output logic                 stall_o,
  output logic                 image_done_o,        // pulse per finished image

  // axi_dma
  output logic                 dma_clear_o,
  input  wire                  dma_busy_i,
  input  wire  [1:0]           dma_error_i,
  `HCCR_DMA_CMD_OUT_PORTS(dma_rd_cmd),
  input  wire  [63:0]          dma_tdata_i,
  input  wire                  dma_tvalid_i,
  output logic                 dma_tready_o,
  input  wire                  dma_tlast_i,

  // the running unit's DMA read channel
  `HCCR_DMA_CMD_PORTS(unit_rd_cmd),
  output logic [63:0]          unit_tdata_o,
  output logic                 unit_tvalid_o,
  input  wire                  unit_tready_i,
  output logic                 unit_tlast_o,

  // units
  output seq_isa_pkg::instr_t  instr_o,
  output logic [1:0]           unit_o,              // 0 seq_io, 1 seq_mac, 2 seq_vec, 3 seq_exit
  output logic                 start_o,             // pulse: start unit_o on instr_o
  output logic                 abort_o,
  input  wire                  unit_done_i,         // the running unit's done
  input  wire                  unit_stall_i,        // the running unit's stall
  input  wire                  jump_i,              // seq_exit: every image of the batch left
  output logic [7:0]           batch_o,
  output logic [31:0]          image_first_o,
  output logic [19:0]          act_image_bytes_o,
  output logic [31:0]          input_bytes_o,
  output logic [31:0]          output_bytes_o
);


  localparam logic [1:0] UNIT_IO = 2'd0, UNIT_MAC = 2'd1, UNIT_VEC = 2'd2, UNIT_EXIT = 2'd3;
  localparam logic [7:0] E_READ = 8'd1, E_WRITE = 8'd2, E_BAD = 8'd3, E_BUSY = 8'd4,
                         E_OVERRUN = 8'd5;

  typedef enum logic [3:0] {IDLE, H_CMD, H_DATA, H_CHECK, BATCH, I_CMD, I_DATA, DECODE, RUN,
                            IMAGES, FINISH} state_e;

  state_e       state_q;
  logic [seq_isa_pkg::RECORD_BITS-1:0] rec_q;  // the record being fetched, word 0 lowest
  seq_isa_pkg::header_t      hdr;
  logic [7:0]   hdr_batch_q;
  logic [23:0]  hdr_instructions_q;
  seq_isa_pkg::instr_t       ins;
  logic [23:0]  index_q;        // instruction index
  logic [7:0]   images_q;       // image_done pulses still to give
  logic [7:0]   nbatch_q;       // images in this batch
  logic [31:0]  first_q;        // index of its first image
  logic         busy_start_q;   // a start came while busy
  logic [7:0]   code_q;
  logic         fetch;          // the controller reads words now

  assign hdr = seq_isa_pkg::header_t'(rec_q);
  assign ins = seq_isa_pkg::instr_t'(rec_q);
  assign fetch = state_q == H_DATA || state_q == I_DATA;

  // DMA read channel: the controller's fetches, else the unit's.
  always_comb begin
    dma_rd_cmd_valid_o = unit_rd_cmd_valid_i && state_q == RUN;
    dma_rd_cmd_addr_o  = unit_rd_cmd_addr_i;
    dma_rd_cmd_bytes_o = unit_rd_cmd_bytes_i;
    if (state_q == H_CMD || state_q == I_CMD) begin
      dma_rd_cmd_valid_o = state_q == H_CMD || index_q != hdr_instructions_q;
      dma_rd_cmd_addr_o  = program_base_i + (state_q == H_CMD ? 32'd0
                                             : (32'(index_q) + 32'd1) << 6);
      dma_rd_cmd_bytes_o = 32'd64;
    end
  end
  assign unit_rd_cmd_ready_o = dma_rd_cmd_ready_i && state_q == RUN;
  assign unit_tdata_o  = dma_tdata_i;
  assign unit_tlast_o  = dma_tlast_i;
  assign unit_tvalid_o = dma_tvalid_i && state_q == RUN;
  assign dma_tready_o  = fetch || (unit_tready_i && state_q == RUN);

  logic hdr_bad, hdr_short, op_bad, dma_err;
  assign hdr_bad = hdr.magic != seq_isa_pkg::MAGIC || hdr.version != seq_isa_pkg::VERSION
                   || hdr.pe != 8'(PE)
                   || hdr.simd != 8'(SIMD) || hdr.batch == 8'd0
                   || (UNIT_M && !hdr.unit_m)
                   || 32'(hdr.act_bytes) > ACT_BYTES;
  assign hdr_short = 33'(program_bytes_i) < (33'(hdr.instructions) + 33'd1) << 6;
  logic is_io, is_mac, is_exit;
  assign is_io  = ins.opcode == seq_isa_pkg::OP_LOAD || ins.opcode == seq_isa_pkg::OP_STORE;
  assign is_mac = ins.opcode == seq_isa_pkg::OP_MAC;
  assign is_exit = ins.opcode == seq_isa_pkg::OP_EXIT;
  assign op_bad = ins.opcode > seq_isa_pkg::OP_EXIT
                  || (!HAS_VEC && ins.opcode != seq_isa_pkg::OP_END && !is_io && !is_mac
                      && !is_exit);
  assign dma_err = state_q != IDLE && state_q != FINISH && dma_error_i != 2'b00;

  logic [31:0] left;  // images not yet started
  assign left = image_count_i - first_q;

  always_ff @(posedge clk) begin
    start_o      <= 1'b0;
    done_o       <= 1'b0;
    image_done_o <= 1'b0;
    if (!rst_n) begin
      state_q      <= IDLE;
      error_o      <= 1'b0;
      error_code_o <= '0;
      busy_start_q <= 1'b0;
    end else begin
      if (start_i && state_q != IDLE) begin
        busy_start_q <= 1'b1;
      end
      if (fetch && dma_tvalid_i) begin
        rec_q <= {dma_tdata_i, rec_q[seq_isa_pkg::RECORD_BITS-1:64]};
      end
      case (state_q)
        IDLE: if (start_i) begin
          busy_start_q  <= 1'b0;
          code_q        <= '0;
          first_q       <= '0;
          state_q       <= H_CMD;
        end
        H_CMD: if (dma_rd_cmd_ready_i) state_q <= H_DATA;
        H_DATA: if (dma_tvalid_i && dma_tlast_i) state_q <= H_CHECK;
        H_CHECK: begin
          hdr_batch_q        <= hdr.batch;
          hdr_instructions_q <= hdr.instructions;
          act_image_bytes_o <= 20'(hdr.act_image_bytes);
          input_bytes_o     <= 32'(hdr.input_bytes);
          output_bytes_o    <= 32'(hdr.output_bytes);
          if (hdr_bad) begin
            code_q  <= E_BAD;
            state_q <= FINISH;
          end else if (hdr_short) begin
            code_q  <= E_OVERRUN;
            state_q <= FINISH;
          end else begin
            state_q <= image_count_i == 32'd0 ? FINISH : BATCH;
          end
        end
        BATCH: begin
          nbatch_q <= left < 32'(hdr_batch_q) ? left[7:0] : hdr_batch_q;
          index_q <= '0;
          state_q <= I_CMD;
        end
        I_CMD: if (index_q == hdr_instructions_q) begin
          code_q  <= E_OVERRUN;
          state_q <= FINISH;
        end else if (dma_rd_cmd_ready_i) begin
          state_q <= I_DATA;
        end
        I_DATA: if (dma_tvalid_i && dma_tlast_i) state_q <= DECODE;
        DECODE: begin
          instr_o <= ins;
          if (op_bad) begin
            code_q  <= E_BAD;
            state_q <= FINISH;
          end else if (ins.opcode == seq_isa_pkg::OP_END) begin
            images_q <= nbatch_q;
            state_q  <= IMAGES;
          end else if (ins.once && ins.slot >= nbatch_q) begin  // no such image: skip
            index_q <= index_q + 24'd1;
            state_q <= I_CMD;
          end else begin
            unit_o        <= is_io ? UNIT_IO : is_mac ? UNIT_MAC : is_exit ? UNIT_EXIT
                                                                        : UNIT_VEC;
            batch_o       <= ins.once ? 8'd1 : nbatch_q;
            image_first_o <= first_q + (ins.once ? 32'(ins.slot) : 32'd0);
            start_o       <= 1'b1;
            state_q       <= RUN;
          end
        end
        RUN: if (unit_done_i) begin  // an EXIT that ended the batch goes on at its `next`
          index_q <= unit_o == UNIT_EXIT && jump_i ? 24'(instr_o.next) : index_q + 24'd1;
          state_q <= I_CMD;
        end
        IMAGES: begin
          image_done_o <= 1'b1;
          images_q     <= images_q - 8'd1;
          if (images_q == 8'd1) begin
            first_q <= first_q + 32'(nbatch_q);
            state_q <= first_q + 32'(nbatch_q) >= image_count_i ? FINISH : BATCH;
          end
        end
        FINISH: begin
          done_o       <= 1'b1;
          error_o      <= code_q != 8'd0 || busy_start_q;
          error_code_o <= code_q != 8'd0 ? code_q : busy_start_q ? E_BUSY : 8'd0;
          state_q      <= IDLE;
        end
        default: state_q <= IDLE;
      endcase
      if (dma_err) begin
        code_q  <= dma_error_i[0] ? E_READ : E_WRITE;
        state_q <= FINISH;
      end
    end
  end

  assign abort_o     = dma_err;
  assign busy_o      = state_q != IDLE;
  assign dma_clear_o = state_q == IDLE && !dma_busy_i;
  assign stall_o     = (state_q == RUN && unit_stall_i) || (fetch && !dma_tvalid_i)
                       || ((state_q == H_CMD || state_q == I_CMD) && !dma_rd_cmd_ready_i);

  logic unused;
  assign unused = ^{hdr.data_bytes, hdr.reserved};

endmodule

`default_nettype wire
