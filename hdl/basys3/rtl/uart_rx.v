// uart_rx: 8N1 receiver with an AXI-Stream byte output.
// Samples in the middle of each bit; returns to idle half-way through the
// stop bit so back-to-back frames (exactly 10 bit periods) are never lost.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module uart_rx #
(
    parameter integer CLK_HZ = 100000000, // fabric clock
    parameter integer BAUD   = 115200     // line rate; CLK_HZ/BAUD clocks per bit (>= 4)
)
(
    input  wire       clk,
    input  wire       rst,

    /* AXI-Stream output */
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    input  wire       m_axis_tready,

    /* UART line (asynchronous) */
    input  wire       rxd,

    /* Status: one-clock strobes */
    output wire       overrun_error,
    output wire       frame_error
);

localparam integer CPB    = (CLK_HZ + BAUD / 2) / BAUD;
localparam integer CW     = $clog2(CPB);
localparam [31:0]  LAST32 = CPB - 1;
localparam [31:0]  HALF32 = CPB / 2 - 1;
localparam [CW-1:0] LAST  = LAST32[CW-1:0];
localparam [CW-1:0] HALF  = HALF32[CW-1:0];

// Two-flop synchroniser: rxd comes straight from a pin.
reg [1:0] sync_reg = 2'b11;
wire rx = sync_reg[1];

reg [7:0]    data_reg   = 8'd0;
reg [7:0]    out_reg    = 8'd0;
reg          valid_reg  = 1'b0;
reg [3:0]    bit_reg    = 4'd0;    // 0 idle, 1 start, 2..9 data, 10 stop
reg [CW-1:0] cnt_reg    = {CW{1'b0}};
reg          overrun_reg = 1'b0;
reg          ferr_reg    = 1'b0;

assign m_axis_tdata  = out_reg;
assign m_axis_tvalid = valid_reg;
assign overrun_error = overrun_reg;
assign frame_error   = ferr_reg;

always @(posedge clk) begin
    sync_reg    <= {sync_reg[0], rxd};
    overrun_reg <= 1'b0;
    ferr_reg    <= 1'b0;

    if (m_axis_tready) valid_reg <= 1'b0;

    if (bit_reg == 4'd0) begin
        if (!rx) begin
            bit_reg <= 4'd1;
            cnt_reg <= HALF;          // to the middle of the start bit
        end
    end else if (cnt_reg != {CW{1'b0}}) begin
        cnt_reg <= cnt_reg - 1'b1;
    end else begin
        cnt_reg <= LAST;
        if (bit_reg == 4'd1) begin
            // a glitch shorter than half a bit is not a start bit
            bit_reg <= rx ? 4'd0 : 4'd2;
        end else if (bit_reg != 4'd10) begin
            data_reg <= {rx, data_reg[7:1]};
            bit_reg  <= bit_reg + 4'd1;
        end else begin
            bit_reg <= 4'd0;
            if (rx) begin
                out_reg   <= data_reg;
                valid_reg <= 1'b1;
                // the previous byte was never taken: it is lost
                overrun_reg <= valid_reg && !m_axis_tready;
            end else begin
                ferr_reg <= 1'b1;
            end
        end
    end

    if (rst) begin
        sync_reg  <= 2'b11;
        valid_reg <= 1'b0;
        bit_reg   <= 4'd0;
        cnt_reg   <= {CW{1'b0}};
        overrun_reg <= 1'b0;
        ferr_reg  <= 1'b0;
    end
end

endmodule

`resetall
