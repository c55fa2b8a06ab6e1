// seg7_display: four hex digits on the Basys 3's common-anode display.
// Anodes and segments are active low (driven through transistors); the
// digits are scanned one at a time at CLK_HZ / 2^SCAN_BITS per digit.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module seg7_display #
(
    parameter integer SCAN_BITS = 17      // 100 MHz / 2^17 = 763 Hz per digit
)
(
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] value,     // digit 3 (left) .. digit 0 (right)
    input  wire [3:0]  blank,     // 1 = digit off
    output wire [6:0]  seg,       // CA..CG, active low
    output wire [3:0]  an         // active low
);

reg [SCAN_BITS-1:0] scan = {SCAN_BITS{1'b0}};
always @(posedge clk) begin
    scan <= rst ? {SCAN_BITS{1'b0}} : scan + 1'b1;
end

wire [1:0] digit = scan[SCAN_BITS-1 -: 2];
wire [3:0] nib   = value[4 * digit +: 4];

reg [6:0] g;   // {G,F,E,D,C,B,A}, 1 = lit
always @* begin
    case (nib)
    4'h0: g = 7'b0111111; 4'h1: g = 7'b0000110; 4'h2: g = 7'b1011011; 4'h3: g = 7'b1001111;
    4'h4: g = 7'b1100110; 4'h5: g = 7'b1101101; 4'h6: g = 7'b1111101; 4'h7: g = 7'b0000111;
    4'h8: g = 7'b1111111; 4'h9: g = 7'b1101111; 4'ha: g = 7'b1110111; 4'hb: g = 7'b1111100;
    4'hc: g = 7'b0111001; 4'hd: g = 7'b1011110; 4'he: g = 7'b1111001; default: g = 7'b1110001;
    endcase
end

assign seg = ~g;
assign an  = ~((4'b0001 << digit) & ~blank);

endmodule

`resetall
