// tb_int8_fc: loads weight artifacts through the staging port, activates
// them, runs input vectors and compares class and scores with the values
// the TypeScript model (firmware-sims/fpga/int8-fc-model.ts) wrote into the
// vector file. Record layout (all bytes, $readmemh):
//   [n_sets] then per set: artifact (OUT*IN + 4*OUT) [n_inputs]
//   then per input: x (IN) class (1) scores (4*OUT, LE)
// Also checks that writing the inactive bank does not disturb results.
// Prints one "RESULT set input class s0 s1 ..." line per run for test/hdl.
`timescale 1ns / 1ps
`default_nettype none

module tb_int8_fc;

localparam integer IN = 16, OUT = 4, NB = OUT * IN + 4 * OUT;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg  [6:0]  st_addr = 7'd0;
reg         st_we = 1'b0;
reg  [7:0]  st_wdata = 8'd0;
wire [7:0]  st_rdata;
reg         activate = 1'b0;
reg  [3:0]  x_addr = 4'd0;
reg         x_we = 1'b0;
reg  [7:0]  x_wdata = 8'd0;
reg         start = 1'b0;
wire        busy, done;
wire [127:0] scores;
wire [1:0]  class_idx;

int8_fc #(.IN(IN), .OUT(OUT)) dut (
    .clk(clk), .rst(rst), .st_addr(st_addr), .st_we(st_we), .st_wdata(st_wdata), .st_rdata(st_rdata),
    .activate(activate), .x_addr(x_addr), .x_we(x_we), .x_wdata(x_wdata),
    .start(start), .busy(busy), .done(done), .scores(scores), .class_idx(class_idx));

reg [7:0] vec [0:65535];
integer p, s, nsets, nin, k, i, o, errors = 0, runs = 0, cyc, last_cycles = 0;
reg [31:0] want;
reg [8*256-1:0] vec_path;

task run_input(input integer set_i, input integer in_i);
    begin
        for (i = 0; i < IN; i = i + 1) begin
            x_addr <= i[3:0]; x_wdata <= vec[p + i]; x_we <= 1'b1;
            @(posedge clk);
        end
        x_we <= 1'b0;
        start <= 1'b1; @(posedge clk); start <= 1'b0;
        cyc = 1;
        while (!done) begin @(posedge clk); cyc = cyc + 1; end
        last_cycles = cyc;
        $write("RESULT %0d %0d %0d", set_i, in_i, class_idx);
        for (o = 0; o < OUT; o = o + 1) $write(" %0d", $signed(scores[32*o +: 32]));
        $write("\n");
        if (class_idx !== vec[p + IN][1:0]) begin
            errors = errors + 1;
            $display("FAIL set %0d input %0d: class %0d want %0d", set_i, in_i, class_idx, vec[p + IN]);
        end
        for (o = 0; o < OUT; o = o + 1) begin
            want = {vec[p+IN+1+4*o+3], vec[p+IN+1+4*o+2], vec[p+IN+1+4*o+1], vec[p+IN+1+4*o]};
            if (scores[32*o +: 32] !== want) begin
                errors = errors + 1;
                $display("FAIL set %0d input %0d: score %0d = %0d want %0d", set_i, in_i, o, $signed(scores[32*o +: 32]), $signed(want));
            end
        end
        runs = runs + 1;
    end
endtask

initial begin
    if (!$value$plusargs("vectors=%s", vec_path)) vec_path = "tb/vectors/int8_fc.hex";
    for (i = 0; i < 65536; i = i + 1) vec[i] = 8'hff;
    $readmemh(vec_path, vec);
    repeat (3) @(posedge clk);
    rst <= 1'b0;
    nsets = vec[0];
    p = 1;
    for (s = 0; s < nsets; s = s + 1) begin
        // stage the artifact in the inactive bank and read it back
        for (k = 0; k < NB; k = k + 1) begin
            st_addr <= k[6:0]; st_wdata <= vec[p + k]; st_we <= 1'b1;
            @(posedge clk);
        end
        st_we <= 1'b0;
        for (k = 0; k < NB; k = k + 1) begin
            st_addr <= k[6:0];
            @(posedge clk); #1;
            if (st_rdata !== vec[p + k]) begin errors = errors + 1; $display("FAIL staging readback %0d", k); end
        end
        @(posedge clk);
        activate <= 1'b1; @(posedge clk); activate <= 1'b0;
        // scribble over the now-inactive bank: results must not change
        for (k = 0; k < NB; k = k + 1) begin
            st_addr <= k[6:0]; st_wdata <= 8'h7f; st_we <= 1'b1;
            @(posedge clk);
        end
        st_we <= 1'b0;
        p = p + NB;
        nin = vec[p]; p = p + 1;
        for (k = 0; k < nin; k = k + 1) begin
            run_input(s, k);
            p = p + IN + 1 + 4 * OUT;
        end
    end
    if (runs == 0) begin errors = errors + 1; $display("FAIL no vectors"); end
    if (errors == 0) $display("PASS tb_int8_fc: %0d inferences over %0d weight sets, %0d clocks each", runs, nsets, last_cycles);
    else begin
        $display("FAIL tb_int8_fc: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

endmodule
