// reset_sync: button/power-on reset for the board. The button is
// synchronised (two flops: it is asynchronous to clk), debounced (it must
// read the same for DEBOUNCE_CLKS clocks), and a power-on counter holds reset
// for the first POR_CLKS clocks after configuration.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module reset_sync #
(
    parameter integer DEBOUNCE_CLKS = 1000000,   // 10 ms at 100 MHz
    parameter integer POR_CLKS      = 1024
)
(
    input  wire clk,
    input  wire btn,        // active high, asynchronous
    output wire rst         // synchronous, active high
);

localparam integer DW = $clog2(DEBOUNCE_CLKS + 1);
localparam integer PW = $clog2(POR_CLKS + 1);
localparam [31:0] DB32 = DEBOUNCE_CLKS;
localparam [31:0] POR32 = POR_CLKS;

reg [1:0]    sync_reg = 2'b00;
reg          stable_reg = 1'b0;
reg [DW-1:0] db_cnt = {DW{1'b0}};
reg [PW-1:0] por_cnt = {PW{1'b0}};
reg          rst_reg = 1'b1;

wire [31:0] db32 = {{(32-DW){1'b0}}, db_cnt};
wire [31:0] por_now = {{(32-PW){1'b0}}, por_cnt};

always @(posedge clk) begin
    sync_reg <= {sync_reg[0], btn};
    if (sync_reg[1] == stable_reg) begin
        db_cnt <= {DW{1'b0}};
    end else if (db32 + 32'd1 >= DB32) begin
        stable_reg <= sync_reg[1];
        db_cnt <= {DW{1'b0}};
    end else begin
        db_cnt <= db_cnt + 1'b1;
    end
    if (por_now < POR32) por_cnt <= por_cnt + 1'b1;
    rst_reg <= stable_reg || (por_now < POR32);
end

assign rst = rst_reg;

endmodule

`resetall
