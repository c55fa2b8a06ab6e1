// int8_fc: the FPGA's compute kernel, an int8 fully-connected classifier
//   score[o] = ReLU(bias[o] + sum_i W[o][i] * x[i])   (int32, wraps mod 2^32)
//   class    = the lowest o with the largest score
// The weights live in block RAM as the raw `int8-fc-weights` artifact:
//   bytes 0 .. OUT*IN-1           W, int8, row-major (row o = output o)
//   bytes OUT*IN .. +4*OUT-1      bias, int32 little-endian
// The RAM has two banks. DEPLOY chunks are written into the inactive bank
// through port A (which also reads it back for the SHA-256 check), and
// `activate` flips banks only after the hash matched, so a bad or partial
// deployment never disturbs the weights in use. firmware-sims/fpga/
// int8-fc-model.ts is the bit-exact model.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module int8_fc #
(
    parameter integer IN  = 16,   // input vector length, >= 2
    parameter integer OUT = 4     // classes, >= 2
)
(
    input  wire                  clk,
    input  wire                  rst,

    /* staging port: write/read the inactive bank (deployment) */
    input  wire [$clog2(OUT*IN+4*OUT)-1:0] st_addr,
    input  wire                  st_we,
    input  wire [7:0]            st_wdata,
    output wire [7:0]            st_rdata,     // registered: st_addr of the previous clock
    input  wire                  activate,     // pulse: the inactive bank becomes active

    /* input vector */
    input  wire [$clog2(IN)-1:0]  x_addr,        // IN >= 2
    input  wire                  x_we,
    input  wire [7:0]            x_wdata,

    /* run */
    input  wire                  start,
    output wire                  busy,
    output wire                  done,         // one-clock strobe
    output wire [32*OUT-1:0]     scores,       // score[o] in bits 32*o +: 32
    output wire [$clog2(OUT)-1:0] class_idx      // OUT >= 2
);

localparam integer NBYTES = OUT * IN + 4 * OUT;      // artifact size
localparam integer AW     = $clog2(NBYTES);          // address within a bank
localparam integer XW     = $clog2(IN);
localparam integer CW     = $clog2(OUT);
localparam integer BANK   = 1 << AW;
localparam [31:0]  WB32   = OUT * IN;
localparam [31:0]  IN32   = IN;
localparam [31:0]  OUT32  = OUT;

reg [7:0] wmem [0:2*BANK-1];
reg       bank_reg = 1'b0;            // active bank
reg [7:0] st_rdata_reg = 8'd0;
reg [7:0] k_rdata_reg  = 8'd0;
reg [AW-1:0] k_addr;

always @(posedge clk) begin
    if (st_we) wmem[{~bank_reg, st_addr}] <= st_wdata;
    st_rdata_reg <= wmem[{~bank_reg, st_addr}];
end
always @(posedge clk) begin
    k_rdata_reg <= wmem[{bank_reg, k_addr}];
end
assign st_rdata = st_rdata_reg;

reg signed [7:0] xmem [0:IN-1];
always @(posedge clk) begin
    if (x_we) xmem[x_addr] <= x_wdata;
end

// sequencer: for each output, 4 bias bytes then IN weight bytes; a byte is
// addressed in one clock and used in the next
localparam [1:0] S_IDLE = 2'd0, S_ADDR = 2'd1, S_USE = 2'd2, S_ARGMAX = 2'd3;
reg [1:0]        state_reg = S_IDLE;
reg [CW-1:0]     o_reg = {CW{1'b0}};
reg [7:0]        j_reg = 8'd0;        // 0..3 bias byte, 4.. weight index + 4
reg signed [31:0] acc_reg = 32'sd0;
reg [31:0]       score_mem [0:OUT-1];
reg [CW-1:0]     best_reg = {CW{1'b0}};
reg [31:0]       best_val = 32'd0;     // score of best_reg: argmax as the scores are stored
reg              done_reg = 1'b0;

wire [31:0] o32 = {{(32-CW){1'b0}}, o_reg};
wire [31:0] j32 = {24'd0, j_reg};
// 32-bit index arithmetic, then truncated to the RAM's address width
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] bias_addr32   = WB32 + 4 * o32 + j32;
wire [31:0] weight_addr32 = o32 * IN32 + j32 - 32'd4;
always @* k_addr = (j_reg < 8'd4) ? bias_addr32[AW-1:0] : weight_addr32[AW-1:0];

wire [31:0] jm4 = j32 - 32'd4;
/* verilator lint_on UNUSEDSIGNAL */
wire signed [7:0]  x_i  = xmem[jm4[XW-1:0]];
wire signed [15:0] prod = $signed(k_rdata_reg) * x_i;
wire               last_j = (j32 == IN32 + 32'd3);
wire [31:0]        relu = acc_reg[31] ? 32'd0 : acc_reg;

genvar g;
generate
    for (g = 0; g < OUT; g = g + 1) begin : pack
        assign scores[32*g +: 32] = score_mem[g];
    end
endgenerate

assign busy      = (state_reg != S_IDLE);
assign done      = done_reg;
assign class_idx = best_reg;

always @(posedge clk) begin
    done_reg <= 1'b0;
    if (activate) bank_reg <= ~bank_reg;
    case (state_reg)
    S_IDLE: if (start) begin
        o_reg <= {CW{1'b0}};
        j_reg <= 8'd0;
        state_reg <= S_ADDR;
    end
    S_ADDR: state_reg <= S_USE;
    S_USE: begin
        if (j_reg < 8'd4) begin
            // bias bytes arrive least significant first
            acc_reg <= {k_rdata_reg, acc_reg[31:8]};
        end else begin
            acc_reg <= acc_reg + {{16{prod[15]}}, prod};
        end
        j_reg <= j_reg + 8'd1;
        state_reg <= S_ADDR;
        if (last_j) begin
            // the final product is added here; ReLU applied when stored below
            j_reg <= 8'd0;
            if (o32 == OUT32 - 32'd1) begin
                state_reg <= S_ARGMAX;
            end else begin
                o_reg <= o_reg + 1'b1;
            end
        end
    end
    default: begin // S_ARGMAX: the last score (and argmax) is stored this clock
        state_reg <= S_IDLE;
        done_reg  <= 1'b1;
    end
    endcase
    if (rst) begin
        state_reg <= S_IDLE;
        bank_reg  <= 1'b0;
        done_reg  <= 1'b0;
    end
end

// store ReLU(acc) once the row's last product has been added, and keep the argmax
// as the rows complete (one comparator, no read multiplexers over the stored scores):
// strictly greater keeps the lowest index on ties
reg       store_pending = 1'b0;
reg [CW-1:0] store_o = {CW{1'b0}};
always @(posedge clk) begin
    store_pending <= (state_reg == S_USE) && last_j;
    if (state_reg == S_USE && last_j) store_o <= o_reg;
    if (store_pending) begin
        score_mem[store_o] <= relu;
        if (store_o == {CW{1'b0}} || relu > best_val) begin
            best_reg <= store_o;
            best_val <= relu;
        end
    end
end

endmodule

`resetall
