// crc32c: byte-serial CRC-32C (Castagnoli), exactly protocol/SPEC.md §2.1:
// reflected polynomial 0x82F63B78, init 0xFFFFFFFF, refin/refout, xorout
// 0xFFFFFFFF. One byte per clock.
// Running the CRC over a frame *including* its own CRC (LSB first) leaves
// the register at the fixed residue RESIDUE, so a receiver checks a frame
// without knowing where the CRC starts.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module crc32c
(
    input  wire        clk,
    input  wire        rst,

    input  wire        init,       // restart at 0xFFFFFFFF (wins over data_valid)
    input  wire [7:0]  data,
    input  wire        data_valid,

    output wire [31:0] crc,        // finished CRC of the bytes so far (state ^ 0xFFFFFFFF)
    output wire        residue_ok  // bytes so far end with their own correct CRC
);

localparam [31:0] POLY    = 32'h82F63B78;
localparam [31:0] RESIDUE = 32'hB798B438;  // register value after data || crc

reg [31:0] state_reg = 32'hFFFFFFFF;

function [31:0] step;
    input [31:0] c;
    input [7:0]  d;
    integer i;
    reg [31:0] x;
    begin
        x = c ^ {24'd0, d};
        for (i = 0; i < 8; i = i + 1)
            x = x[0] ? ((x >> 1) ^ POLY) : (x >> 1);
        step = x;
    end
endfunction

assign crc = ~state_reg;
assign residue_ok = (state_reg == RESIDUE);

always @(posedge clk) begin
    if (init)
        state_reg <= 32'hFFFFFFFF;
    else if (data_valid)
        state_reg <= step(state_reg, data);
    if (rst)
        state_reg <= 32'hFFFFFFFF;
end

endmodule

`resetall
