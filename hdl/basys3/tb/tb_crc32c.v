// tb_crc32c: the SPEC §2.1 check value, then every vector in
// tb/vectors/crc32c.hex (records: data || crc LE): the CRC of the data must
// equal the trailing four bytes, and the whole record must leave the residue.
`timescale 1ns / 1ps
`default_nettype none

module tb_crc32c;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg        init = 1'b0;
reg  [7:0] data = 8'd0;
reg        data_valid = 1'b0;
wire [31:0] crc;
wire        residue_ok;

crc32c dut (.clk(clk), .rst(rst), .init(init), .data(data), .data_valid(data_valid), .crc(crc), .residue_ok(residue_ok));

reg [7:0] vec [0:65535];
integer p, n, i, errors = 0, cases = 0, nrec, r;
reg [31:0] want;
reg [8*256-1:0] vec_path;
reg [8*9-1:0] check_str;

task put(input [7:0] b);
    begin
        data <= b; data_valid <= 1'b1;
        @(posedge clk);
        data_valid <= 1'b0;
    end
endtask

initial begin
    if (!$value$plusargs("vectors=%s", vec_path)) vec_path = "../../protocol/vectors/crc.hex";
    for (i = 0; i < 65536; i = i + 1) vec[i] = 8'hff;
    $readmemh(vec_path, vec);
    repeat (3) @(posedge clk);
    rst <= 1'b0;
    @(posedge clk);

    // SPEC §2.1 check value
    check_str = "123456789";
    for (i = 8; i >= 0; i = i - 1) put(check_str[i*8 +: 8]);
    @(negedge clk);
    if (crc !== 32'hE3069283) begin
        errors = errors + 1;
        $display("FAIL check value: got %08x want e3069283", crc);
    end
    cases = cases + 1;

    nrec = {vec[0], vec[1]};
    p = 2;
    if (nrec == 16'hffff || nrec == 0) begin errors = errors + 1; $display("FAIL no vectors in %0s", vec_path); end
    else for (r = 0; r < nrec; r = r + 1) begin
        n = {vec[p], vec[p+1]}; p = p + 2;
        init <= 1'b1; @(posedge clk); init <= 1'b0;
        for (i = 0; i < n - 4; i = i + 1) put(vec[p + i]);
        @(negedge clk);
        want = {vec[p+n-1], vec[p+n-2], vec[p+n-3], vec[p+n-4]};
        if (crc !== want) begin
            errors = errors + 1;
            $display("FAIL case %0d: crc %08x want %08x", cases, crc, want);
        end
        for (i = n - 4; i < n; i = i + 1) put(vec[p + i]);
        @(negedge clk);
        if (!residue_ok) begin
            errors = errors + 1;
            $display("FAIL case %0d: residue not reached", cases);
        end
        // one flipped bit must break the residue
        init <= 1'b1; @(posedge clk); init <= 1'b0;
        for (i = 0; i < n; i = i + 1) put(vec[p + i] ^ ((i == n / 2) ? 8'h10 : 8'h00));
        @(negedge clk);
        if (residue_ok) begin
            errors = errors + 1;
            $display("FAIL case %0d: corrupted record still passes", cases);
        end
        p = p + n;
        cases = cases + 1;
    end

    if (errors == 0) $display("PASS tb_crc32c: %0d cases", cases);
    else begin
        $display("FAIL tb_crc32c: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

endmodule
