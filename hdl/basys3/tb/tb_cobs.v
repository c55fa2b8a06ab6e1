// tb_cobs: COBS encoder and decoder against the shared vectors
// (tb/vectors/cobs.hex: records raw, encoded-with-delimiter), then bad
// pieces, oversize frames and resynchronisation. Random valid/ready gaps.
`timescale 1ns / 1ps
`default_nettype none

module tb_cobs;

localparam integer MAX_LEN = 512;

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

// encoder
reg  [7:0] e_in_data = 8'd0;
reg        e_in_valid = 1'b0;
reg        e_in_last = 1'b0;
wire       e_in_ready;
wire [7:0] e_out_data;
wire       e_out_valid, e_out_last;
reg        e_out_ready = 1'b0;

cobs_encode enc (
    .clk(clk), .rst(rst),
    .s_axis_tdata(e_in_data), .s_axis_tvalid(e_in_valid), .s_axis_tready(e_in_ready), .s_axis_tlast(e_in_last),
    .m_axis_tdata(e_out_data), .m_axis_tvalid(e_out_valid), .m_axis_tready(e_out_ready), .m_axis_tlast(e_out_last)
);

// decoder
reg  [7:0] d_in_data = 8'd0;
reg        d_in_valid = 1'b0;
wire       d_in_ready;
wire [7:0] d_out_data;
wire       d_out_valid, d_out_last, d_out_user;
reg        d_out_ready = 1'b0;
wire       d_bad, d_over;

cobs_decode #(.MAX_LEN(MAX_LEN)) dec (
    .clk(clk), .rst(rst),
    .s_axis_tdata(d_in_data), .s_axis_tvalid(d_in_valid), .s_axis_tready(d_in_ready),
    .m_axis_tdata(d_out_data), .m_axis_tvalid(d_out_valid), .m_axis_tready(d_out_ready),
    .m_axis_tlast(d_out_last), .m_axis_tuser(d_out_user),
    .bad_frame(d_bad), .oversize_frame(d_over)
);

reg [7:0] vec [0:65535];
reg [7:0] raw [0:2047];
reg [7:0] cob [0:2047];
reg [7:0] got [0:2047];
reg [2:0] got_flags [0:2047];   // {user, last, 1}
integer raw_n, cob_n, got_n, n_bad, n_over, nrec, r;
integer errors = 0, checks = 0, cases = 0;
integer seed = 32'h1234;
integer p, i, k;
reg [8*256-1:0] vec_path;

// output collectors run all the time, with random ready
always @(posedge clk) begin
    e_out_ready <= ($random(seed) & 3) != 0;
    d_out_ready <= ($random(seed) & 3) != 0;
end
always @(posedge clk) begin
    if (d_out_valid && d_out_ready) begin
        got[got_n] <= d_out_data;
        got_flags[got_n] <= {d_out_user, d_out_last, 1'b1};
        got_n <= got_n + 1;
    end
    if (d_bad) n_bad <= n_bad + 1;
    if (d_over) n_over <= n_over + 1;
end

task check(input cond, input [8*64-1:0] what);
    begin
        checks = checks + 1;
        if (!cond) begin
            errors = errors + 1;
            $display("FAIL case %0d: %0s", cases, what);
        end
    end
endtask

task feed_decoder(input integer n);   // cob[0..n-1]
    integer j;
    begin
        for (j = 0; j < n; j = j + 1) begin
            while (($random(seed) & 3) == 0) @(posedge clk);
            d_in_data <= cob[j];
            d_in_valid <= 1'b1;
            @(posedge clk);
            while (!d_in_ready) @(posedge clk);
            d_in_valid <= 1'b0;
        end
        repeat (8) @(posedge clk);
    end
endtask

task reset_log;
    begin
        @(posedge clk);
        got_n <= 0; n_bad <= 0; n_over <= 0;
        @(posedge clk);
    end
endtask

task encode_and_compare;
    integer j, m;
    begin
        // drive raw through the encoder while collecting its output
        m = 0;
        fork
            begin
                for (j = 0; j < raw_n; j = j + 1) begin
                    while (($random(seed) & 3) == 0) @(posedge clk);
                    e_in_data <= raw[j];
                    e_in_last <= (j == raw_n - 1);
                    e_in_valid <= 1'b1;
                    @(posedge clk);
                    while (!e_in_ready) @(posedge clk);
                    e_in_valid <= 1'b0;
                end
            end
            begin : collect
                forever begin
                    @(posedge clk);
                    if (e_out_valid && e_out_ready) begin
                        if (m < cob_n) check(e_out_data == cob[m], "encoder byte");
                        check(e_out_last == (m == cob_n - 1), "encoder tlast on the delimiter only");
                        m = m + 1;
                        if (e_out_last) disable collect;
                    end
                end
            end
        join
        check(m == cob_n, "encoder length");
    end
endtask

initial begin
    // protocol/vectors/cobs.hex is the contract; +vectors= points at another file in the
    // same format (tb/vectors/cobs-extra.hex adds 512-byte frames)
    if (!$value$plusargs("vectors=%s", vec_path)) vec_path = "../../protocol/vectors/cobs.hex";
    for (i = 0; i < 65536; i = i + 1) vec[i] = 8'hff;
    $readmemh(vec_path, vec);
    got_n = 0; n_bad = 0; n_over = 0;
    repeat (4) @(posedge clk);
    rst <= 1'b0;

    // --- golden vectors ---
    nrec = {vec[0], vec[1]};
    p = 2;
    if (nrec == 16'hffff || nrec < 2) begin errors = errors + 1; $display("FAIL no vectors in %0s", vec_path); end
    else for (r = 0; r < nrec; r = r + 2) begin
        raw_n = {vec[p], vec[p+1]}; p = p + 2;
        for (i = 0; i < raw_n; i = i + 1) raw[i] = vec[p + i];
        p = p + raw_n;
        cob_n = {vec[p], vec[p+1]}; p = p + 2;
        for (i = 0; i < cob_n; i = i + 1) cob[i] = vec[p + i];
        p = p + cob_n;
        cob[cob_n] = 8'h00;          // the files hold COBS without the delimiter
        cob_n = cob_n + 1;

        if (raw_n > 0) encode_and_compare;   // an empty frame has no byte to carry tlast

        reset_log;
        feed_decoder(cob_n);
        check(got_n == raw_n, "decoded length");
        for (k = 0; k < got_n && k < raw_n; k = k + 1) begin
            check(got[k] == raw[k], "decoded byte");
            check(got_flags[k] == ((k == raw_n - 1) ? 3'b011 : 3'b001), "decoded tlast/tuser");
        end
        check(n_bad == 0 && n_over == 0, "no error strobes on a good frame");
        cases = cases + 1;
    end

    // --- a code byte pointing past the end, then a good frame: resync ---
    reset_log;
    cob[0] = 8'h05; cob[1] = 8'h11; cob[2] = 8'h22; cob[3] = 8'h00;   // bad piece
    cob[4] = 8'h03; cob[5] = 8'hAA; cob[6] = 8'hBB; cob[7] = 8'h00;   // good: AA BB
    feed_decoder(8);
    check(n_bad == 1, "bad piece counted once");
    check(got_n == 4, "bad piece flushed with tuser, then the good frame");
    check(got_flags[1] == 3'b111, "bad piece closed with tlast+tuser");
    check(got[2] == 8'hAA && got[3] == 8'hBB && got_flags[3] == 3'b011, "good frame after bad one");
    cases = cases + 1;

    // --- noise, lone delimiters, then a good frame ---
    reset_log;
    cob[0] = 8'h00; cob[1] = 8'h00; cob[2] = 8'h02; cob[3] = 8'h00; // empty pieces and [02 00]: piece "02" is bad (1 byte missing)
    cob[4] = 8'h02; cob[5] = 8'h7E; cob[6] = 8'h00;                  // good: 7E
    feed_decoder(7);
    check(n_bad == 1, "truncated piece counted");
    check(got_n == 1 && got[0] == 8'h7E && got_flags[0] == 3'b011, "resync after noise");
    cases = cases + 1;

    // --- oversize: MAX_LEN+88 non-zero bytes, then a good frame ---
    reset_log;
    k = 0;
    for (i = 0; i < MAX_LEN + 88; i = i + 1) begin
        if (i % 254 == 0) begin cob[k] = (MAX_LEN + 88 - i >= 254) ? 8'hff : (MAX_LEN + 88 - i + 1); k = k + 1; end
        cob[k] = 8'h5A; k = k + 1;
    end
    cob[k] = 8'h00; k = k + 1;
    cob[k] = 8'h02; cob[k+1] = 8'h01; cob[k+2] = 8'h00; k = k + 3;
    feed_decoder(k);
    check(n_over == 1 && n_bad == 0, "oversize counted once");
    check(got_n == MAX_LEN + 1, "oversize frame cut at MAX_LEN (never buffered further), then the good frame");
    check(got[MAX_LEN] == 8'h01 && got_flags[MAX_LEN] == 3'b011, "good frame right after the oversize one");
    check(got_flags[MAX_LEN - 1] == 3'b111, "oversize frame closed with tuser");
    cases = cases + 1;
    reset_log;
    cob[0] = 8'h02; cob[1] = 8'h01; cob[2] = 8'h00;
    feed_decoder(3);
    check(got_n == 1 && got[0] == 8'h01 && got_flags[0] == 3'b011, "good frame after oversize");

    if (errors == 0) $display("PASS tb_cobs: %0d cases, %0d checks", cases, checks);
    else begin
        $display("FAIL tb_cobs: %0d errors in %0d checks", errors, checks);
        $fatal(1);
    end
    $finish;
end

initial begin
    #50_000_000;
    $display("FAIL tb_cobs: timeout");
    $fatal(1);
end

endmodule
