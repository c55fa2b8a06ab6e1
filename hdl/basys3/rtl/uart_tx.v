// uart_tx: 8N1 transmitter with an AXI-Stream byte input.
// A frame is exactly 10 bit periods: the next byte is accepted on the last
// clock of the stop bit, so back-to-back bytes leave at the same rate the
// receiver on the other side can take them (hdl-facts.md §4a, bug 1).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module uart_tx #
(
    parameter integer CLK_HZ = 100000000, // fabric clock
    parameter integer BAUD   = 115200     // line rate; CLK_HZ/BAUD clocks per bit (>= 2)
)
(
    input  wire       clk,
    input  wire       rst,

    /* AXI-Stream input */
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    output wire       s_axis_tready,

    /* UART line */
    output wire       txd,

    /* Status */
    output wire       busy
);

localparam integer CPB    = (CLK_HZ + BAUD / 2) / BAUD;   // rounded clocks per bit
localparam integer CW     = $clog2(CPB);
localparam [31:0]  LAST32 = CPB - 1;
localparam [CW-1:0] LAST  = LAST32[CW-1:0];

// Shift register holds {stop, data, start}; idle shifts in ones so txd is a
// flop output (no glitches on the line) and idles high.
reg [9:0]    sh_reg   = 10'h3ff;
reg [3:0]    bits_reg = 4'd0;     // bits still to send, including the current one
reg [CW-1:0] cnt_reg  = {CW{1'b0}};

wire last_clock = (bits_reg == 4'd1) && (cnt_reg == {CW{1'b0}});

assign s_axis_tready = (bits_reg == 4'd0) || last_clock;
assign txd  = sh_reg[0];
assign busy = (bits_reg != 4'd0);

always @(posedge clk) begin
    if (s_axis_tvalid && s_axis_tready) begin
        sh_reg   <= {1'b1, s_axis_tdata, 1'b0};
        bits_reg <= 4'd10;
        cnt_reg  <= LAST;
    end else if (bits_reg != 4'd0) begin
        if (cnt_reg == {CW{1'b0}}) begin
            sh_reg   <= {1'b1, sh_reg[9:1]};
            bits_reg <= bits_reg - 4'd1;
            cnt_reg  <= LAST;
        end else begin
            cnt_reg <= cnt_reg - 1'b1;
        end
    end

    if (rst) begin
        sh_reg   <= 10'h3ff;
        bits_reg <= 4'd0;
        cnt_reg  <= {CW{1'b0}};
    end
end

`ifdef FORMAL
// Property: a frame is exactly ten bit periods. Once a byte is accepted,
// the line shows start, 8 data, stop, each for CPB clocks, and the
// transmitter cannot accept a new byte before 10*CPB clocks have passed.
reg        f_past_valid = 1'b0;
// proven with a small CPB (formal/run.sh uses 2): 10*CPB must fit in f_age
reg [7:0]  f_age = 8'd0;        // clocks since the last accepted byte
reg        f_active = 1'b0;
always @(posedge clk) begin
    f_past_valid <= 1'b1;
    if (rst) begin
        f_active <= 1'b0;
        f_age <= 8'd0;
    end else if (s_axis_tvalid && s_axis_tready) begin
        f_active <= 1'b1;
        f_age <= 8'd0;
    end else if (f_active) begin
        f_age <= f_age + 8'd1;
        if (f_age == 10 * CPB - 1) f_active <= 1'b0;
    end
end
always @(posedge clk) begin
    if (f_past_valid && !$past(rst)) begin
        // start bit low for the first period
        if (f_active && f_age < CPB) assert(txd == 1'b0);
        // stop bit high for the tenth period
        if (f_active && f_age >= 9 * CPB) assert(txd == 1'b1);
        // cannot take a new byte before the frame is over, and must be ready
        // exactly on its last clock
        if (f_active && f_age < 10 * CPB - 1) assert(!s_axis_tready);
        if (f_active && f_age == 10 * CPB - 1) assert(s_axis_tready);
        // busy exactly while a frame is on the line
        assert(busy == f_active);
        if (!f_active) assert(txd == 1'b1);
    end
end
`endif

endmodule

`resetall
