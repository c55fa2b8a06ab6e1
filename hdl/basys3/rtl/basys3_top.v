// basys3_top: board wrapper for edge_core on a Digilent Basys 3 with an HC-05
// on Pmod JA (constraints/basys3.xdc, wiring in README.md).
//   LEDs: 0 link, 1 registered, 2 busy, 3 error, 4 HC-05 STATE (paired)
//   7-segment: the short id until the first inference, then "C  n" (class n)
//   btnC: reset (synchronised and debounced)
// The device key comes from rtl/epara_key.vh, which is generated per device
// and never committed (.gitignore). Without it the build uses the
// simulation test key and says so: such a bitstream must not be deployed.
`resetall
`timescale 1ns / 1ps
`default_nettype none

`ifdef EPARA_KEY_VH
`include "epara_key.vh"      // defines EPARA_DEVICE_KEY (256'h...) and EPARA_DEVICE_ID ("...")
`endif
`ifndef EPARA_DEVICE_KEY
`define EPARA_DEVICE_KEY 256'h000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
`define EPARA_TEST_KEY
`endif
`ifndef EPARA_DEVICE_ID
`define EPARA_DEVICE_ID "basys3-01"
`define EPARA_DEVICE_ID_LEN 9
`endif

module basys3_top #
(
    parameter integer BAUD     = 9600,        // HC-05 data-mode default; 115200 after AT+UART=115200,0,0
    parameter [15:0]  SHORT_ID = 16'hb301     // shown on the display
)
(
    input  wire        clk,          // 100 MHz, W5
    input  wire        btnC,

    output wire        bt_txd,       // JA1: FPGA -> HC-05 RXD
    input  wire        bt_rxd,       // JA2: HC-05 TXD -> FPGA
    input  wire        bt_state,     // JA3: HC-05 STATE (high while paired)
    output wire        bt_en,        // JA4: HC-05 EN/KEY (held low: data mode)

    output wire [15:0] led,
    output wire [6:0]  seg,
    output wire        dp,
    output wire [3:0]  an
);

`ifdef EPARA_TEST_KEY
initial $display("basys3_top: WARNING built with the SIMULATION TEST KEY; generate rtl/epara_key.vh for a real device");
`endif

wire rst;
reset_sync u_rst (.clk(clk), .btn(btnC), .rst(rst));

wire        link_up, registered, busy, error;
wire [7:0]  last_class;
/* verilator lint_off UNUSEDSIGNAL */
wire [31:0] good_frames, bad_frames;
/* verilator lint_on UNUSEDSIGNAL */

edge_core #(
    .CLK_HZ(100000000), .BAUD(BAUD),
    .DEVICE_ID(`EPARA_DEVICE_ID), .ID_LEN(`EPARA_DEVICE_ID_LEN), .KEY(`EPARA_DEVICE_KEY)
) u_core (
    .clk(clk), .rst(rst), .rxd(bt_rxd), .txd(bt_txd),
    .link_up(link_up), .registered(registered), .busy(busy), .error(error),
    .last_class(last_class), .good_frames(good_frames), .bad_frames(bad_frames));

// stretch busy so a 2 us inference is visible
reg [22:0] busy_stretch = 23'd0;
always @(posedge clk) busy_stretch <= busy ? 23'h7fffff : (busy_stretch != 23'd0 ? busy_stretch - 23'd1 : 23'd0);

assign led = {11'd0, bt_state, error, busy_stretch != 23'd0, registered, link_up};
assign bt_en = 1'b0;
assign dp = 1'b1;

wire show_class = (last_class != 8'hff);
seg7_display u_seg (
    .clk(clk), .rst(rst),
    .value(show_class ? {4'hc, 4'h0, last_class} : SHORT_ID),
    .blank(show_class ? 4'b0110 : 4'b0000),
    .seg(seg), .an(an));

endmodule

`resetall
