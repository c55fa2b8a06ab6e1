// axis_fifo: synchronous FIFO between two AXI-Stream byte interfaces.
// DEPTH is a power of two; storage is a plain array so yosys maps deep
// FIFOs to block RAM and shallow ones to distributed RAM. The read is
// registered (one word of output register) so BRAM inference works.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module axis_fifo #
(
    parameter integer WIDTH = 8,    // bits per word (tdata + tlast etc. packed by the user)
    parameter integer DEPTH = 16    // words, power of two, >= 2
)
(
    input  wire             clk,
    input  wire             rst,

    input  wire [WIDTH-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire             s_axis_tready,

    output wire [WIDTH-1:0] m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready,

    output wire [$clog2(DEPTH):0] count
);

localparam integer AW = $clog2(DEPTH);

reg [WIDTH-1:0] mem [0:DEPTH-1];
reg [AW:0]      wr_ptr = {(AW+1){1'b0}};
reg [AW:0]      rd_ptr = {(AW+1){1'b0}};
reg [WIDTH-1:0] out_reg = {WIDTH{1'b0}};
reg             out_valid = 1'b0;

wire empty = (wr_ptr == rd_ptr);
wire full  = (wr_ptr == {~rd_ptr[AW], rd_ptr[AW-1:0]});
// move a word from memory into the output register when it is empty or being taken
wire pop   = !empty && (!out_valid || m_axis_tready);

assign s_axis_tready = !full;
assign m_axis_tdata  = out_reg;
assign m_axis_tvalid = out_valid;
assign count = (wr_ptr - rd_ptr) + {{AW{1'b0}}, out_valid};

always @(posedge clk) begin
    if (s_axis_tvalid && !full) begin
        mem[wr_ptr[AW-1:0]] <= s_axis_tdata;
        wr_ptr <= wr_ptr + 1'b1;
    end
    if (pop) begin
        out_reg <= mem[rd_ptr[AW-1:0]];
        rd_ptr  <= rd_ptr + 1'b1;
        out_valid <= 1'b1;
    end else if (m_axis_tready) begin
        out_valid <= 1'b0;
    end

    if (rst) begin
        wr_ptr <= {(AW+1){1'b0}};
        rd_ptr <= {(AW+1){1'b0}};
        out_valid <= 1'b0;
    end
end

endmodule

`resetall
