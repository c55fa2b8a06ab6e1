// tb_fifo: axis_fifo against a queue model with random valid/ready, checks
// order, full/empty behaviour and the count output.
`timescale 1ns / 1ps
`default_nettype none

module tb_fifo;

localparam integer DEPTH = 8;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg  [8:0] in_data = 9'd0;
reg        in_valid = 1'b0;
wire       in_ready;
wire [8:0] out_data;
wire       out_valid;
reg        out_ready = 1'b0;
wire [3:0] count;

axis_fifo #(.WIDTH(9), .DEPTH(DEPTH)) dut (
    .clk(clk), .rst(rst), .s_axis_tdata(in_data), .s_axis_tvalid(in_valid), .s_axis_tready(in_ready),
    .m_axis_tdata(out_data), .m_axis_tvalid(out_valid), .m_axis_tready(out_ready), .count(count));

integer seed = 99, sent = 0, recv = 0, errors = 0, cyc, max_count = 0;
reg [8:0] next_in = 9'd0;

initial begin
    repeat (3) @(posedge clk);
    rst <= 1'b0;
    for (cyc = 0; cyc < 20000; cyc = cyc + 1) begin
        @(posedge clk);
        // in/out accounting for the edge that just happened
        if (in_valid && in_ready) begin sent = sent + 1; next_in = next_in + 9'd37; end
        if (out_valid && out_ready) begin
            if (out_data !== recv * 37 % 512) begin
                errors = errors + 1;
                $display("FAIL word %0d: %0d", recv, out_data);
            end
            recv = recv + 1;
        end
        #1;
        if (count != sent - recv) begin errors = errors + 1; $display("FAIL count %0d want %0d", count, sent - recv); end
        if (count > max_count) max_count = count;
        if (count > DEPTH + 1) begin errors = errors + 1; $display("FAIL overfull"); end
        // bursty traffic: phases of mostly-writing and mostly-reading
        in_valid  <= (cyc % 400 < 200) ? (($random(seed) & 7) != 0) : (($random(seed) & 7) == 0);
        out_ready <= (cyc % 400 < 200) ? (($random(seed) & 7) == 0) : (($random(seed) & 7) != 0);
        in_data   <= next_in;
    end
    if (max_count < DEPTH) begin errors = errors + 1; $display("FAIL never filled"); end
    if (errors == 0) $display("PASS tb_fifo: %0d words in order, peak occupancy %0d", recv, max_count);
    else begin
        $display("FAIL tb_fifo: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

endmodule
