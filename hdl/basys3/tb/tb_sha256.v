// tb_sha256: hmac_sha256 (plain and HMAC modes, over sha256_core) against
// tb/vectors/sha256.hex: FIPS 180-2 "abc", the 448- and 896-bit messages,
// RFC 4231 cases 1-2, and every padding boundary (55/56/57/63/64/65... bytes).
`timescale 1ns / 1ps
`default_nettype none

module tb_sha256;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg          start = 1'b0, hmac = 1'b0, msg_empty = 1'b0;
reg  [255:0] key = 256'd0;
reg  [7:0]   m_data = 8'd0;
reg          m_valid = 1'b0, m_last = 1'b0;
wire         m_ready, busy, done;
wire [255:0] digest;

hmac_sha256 dut (
    .clk(clk), .rst(rst), .start(start), .hmac(hmac), .msg_empty(msg_empty), .key(key),
    .s_axis_tdata(m_data), .s_axis_tvalid(m_valid), .s_axis_tready(m_ready), .s_axis_tlast(m_last),
    .busy(busy), .done(done), .digest(digest));

reg [7:0] vec [0:65535];
integer p, n, i, j, dn, errors = 0, cases = 0, seed = 5, cycles, nrec, r, max_cycles = 0;
reg [255:0] want;
reg [8*256-1:0] vec_path;
integer last_n = -1, last_j = 0;
reg [255:0] last_key, last_want;

// one message: start, the bytes with random gaps, then `digest` against `want`
// a few clocks after done (it must hold until the next start)
task run_case;
    input integer m0;       // first message byte in vec
    input integer len;
    begin
        @(posedge clk);
        start <= 1'b1; msg_empty <= (len == 0);
        @(posedge clk);
        start <= 1'b0;
        cycles = 0;
        for (i = 0; i < len; i = i + 1) begin
            while (($random(seed) & 3) == 0) @(posedge clk);
            m_data <= vec[m0 + i]; m_last <= (i == len - 1); m_valid <= 1'b1;
            @(posedge clk);
            while (!m_ready) @(posedge clk);
            m_valid <= 1'b0;
        end
        while (!done) begin @(posedge clk); cycles = cycles + 1; end
        if (cycles > max_cycles) max_cycles = cycles;
        repeat (1 + ($random(seed) & 7)) @(posedge clk);
        if (digest !== want) begin
            errors = errors + 1;
            $display("FAIL case %0d (hmac=%0d, %0d bytes): %064x want %064x", cases, hmac, len, digest, want);
        end
    end
endtask


initial begin
    if (!$value$plusargs("vectors=%s", vec_path)) vec_path = "tb/vectors/sha256.hex";
    for (i = 0; i < 65536; i = i + 1) vec[i] = 8'hff;
    $readmemh(vec_path, vec);
    repeat (3) @(posedge clk);
    rst <= 1'b0;
    nrec = {vec[0], vec[1]};
    p = 2;
    for (r = 0; r < nrec && nrec != 16'hffff; r = r + 2) begin
        n = {vec[p], vec[p+1]}; p = p + 2;
        hmac = vec[p][0];
        for (i = 0; i < 32; i = i + 1) key[255 - 8*i -: 8] = vec[p + 1 + i];
        j = p + 33;          // message start
        p = p + n;
        dn = {vec[p], vec[p+1]}; p = p + 2;
        for (i = 0; i < 32; i = i + 1) want[255 - 8*i -: 8] = vec[p + i];
        p = p + dn;
        n = n - 33;          // message length

        run_case(j, n);
        if (hmac && n > last_n) begin
            last_n = n; last_j = j; last_key = key; last_want = want;
        end
        cases = cases + 1;
    end
    // reset in the middle of an HMAC (the core compressing a message block), then
    // the same HMAC again from the start: nothing may survive the reset but the result
    if (last_n > 64) begin
        hmac = 1'b1; key = last_key; want = last_want;
        @(posedge clk);
        start <= 1'b1; msg_empty <= 1'b0;
        @(posedge clk);
        start <= 1'b0;
        for (i = 0; i < 64; i = i + 1) begin
            m_data <= vec[last_j + i]; m_last <= 1'b0; m_valid <= 1'b1;
            @(posedge clk);
            while (!m_ready) @(posedge clk);
        end
        m_valid <= 1'b0;
        // the 64th message byte completes a block and the core compresses it: reset inside
        while (!dut.core.busy) @(posedge clk);
        repeat (1 + ($random(seed) & 1023)) @(posedge clk);
        rst <= 1'b1;
        @(posedge clk);
        rst <= 1'b0;
        @(posedge clk);
        if (busy !== 1'b0) begin errors = errors + 1; $display("FAIL busy after reset"); end
        run_case(last_j, last_n);
        cases = cases + 1;
    end
    if (cases < 20) begin errors = errors + 1; $display("FAIL only %0d vectors read", cases); end
    if (errors == 0) $display("PASS tb_sha256: %0d vectors (SHA-256 and HMAC-SHA256, the last again after a reset mid-hash), at most %0d clocks from last byte to done", cases, max_cycles);
    else begin
        $display("FAIL tb_sha256: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

initial begin
    // the bit-serial core takes ~2,900 clocks per block: 25 vectors are ~170 blocks
    #20_000_000;
    $display("FAIL tb_sha256: timeout (state %0d stage %0d word %0d bit %0d)", dut.st_reg, dut.stage_reg, dut.w_reg, dut.j_reg);
    $fatal(1);
end

endmodule
