// tb_edge_core: edge_core under Icarus, driven only by the golden vectors.
//  1. every frame of protocol/vectors/invalid-wire.hex goes in back to back:
//     the frame-level ones must be counted as bad (bad_frames), nothing may hang;
//  2. then the "ping-data" request from valid-frames.hex (data contains 0x00):
//     the device must answer with a PONG whose header is RSP / corr = the
//     PING's seq, whose CRC checks, and whose CBOR body equals the golden
//     pong-data body (a PONG echoes the PING's map byte for byte);
//  3. two hostile PINGs built here (header, CRC-32C, COBS): a byte string whose
//     4-byte length is near 2^32 (a 32-bit pos + len would wrap and pass a
//     bounds check) and a map that claims 65,537 pairs but holds one (a 16-bit
//     item count would read it as 1): both are truncated CBOR, so each must be
//     answered with an ERROR, code 111 (cbor), corr = its seq.
// The device's output is decoded with the same uart_rx / cobs_decode / crc32c.
`timescale 1ns / 1ps
`default_nettype none

module tb_edge_core;

localparam integer CPB = 16;
localparam integer EXPECT_BAD = 11;   // frame-level entries in invalid-wire.hex (their comment lines say frame.*)

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg  rxd = 1'b1;
wire txd;
wire link_up, registered, busy, error;
wire [7:0] last_class;
wire [31:0] good_frames, bad_frames;

edge_core #(
    .CLK_HZ(CPB * 100000), .BAUD(100000), .CLKS_PER_MS(100000), .HELLO_RETRY_MS(1000)
) dut (
    .clk(clk), .rst(rst), .rxd(rxd), .txd(txd),
    .link_up(link_up), .registered(registered), .busy(busy), .error(error),
    .last_class(last_class), .good_frames(good_frames), .bad_frames(bad_frames));

// decode what the device sends
wire [7:0] m_data;
wire       m_valid;
wire [7:0] f_data;
wire       f_valid, f_last, f_user;
wire       f_bad, f_over;
uart_rx #(.CLK_HZ(CPB * 100000), .BAUD(100000)) mon (
    .clk(clk), .rst(rst), .m_axis_tdata(m_data), .m_axis_tvalid(m_valid), .m_axis_tready(1'b1),
    .rxd(txd), .overrun_error(), .frame_error());
cobs_decode #(.MAX_LEN(512)) mdec (
    .clk(clk), .rst(rst), .s_axis_tdata(m_data), .s_axis_tvalid(m_valid), .s_axis_tready(),
    .m_axis_tdata(f_data), .m_axis_tvalid(f_valid), .m_axis_tready(1'b1), .m_axis_tlast(f_last),
    .m_axis_tuser(f_user), .bad_frame(f_bad), .oversize_frame(f_over));
wire crc_ok;
reg  crc_init = 1'b1;
crc32c mcrc (.clk(clk), .rst(rst), .init(crc_init), .data(f_data), .data_valid(f_valid), .crc(), .residue_ok(crc_ok));

reg [7:0]  out_frame [0:511];
integer    out_n = 0;
reg        pong_seen = 1'b0;
reg        pong_ok = 1'b0;
reg [7:0]  ping [0:63];
integer    ping_n = 0;
reg [15:0] ping_seq;
integer    err111_seen = 0;           // ERROR answers with code 111 to the hostile PINGs (seq 7001, 7002)

always @(posedge clk) begin
    crc_init <= 1'b0;
    if (f_valid) begin
        out_frame[out_n] = f_data;
        out_n = out_n + 1;
        if (f_last) begin
            #1;
            if (out_frame[1] == 8'h07) begin : check_pong
                integer k;
                pong_seen = 1'b1;
                pong_ok = crc_ok && !f_user && out_frame[0] == 8'h01 && out_frame[2] == 8'h01 &&
                          {out_frame[5], out_frame[6]} == ping_seq && out_n == ping_n;
                for (k = 9; k < ping_n - 4; k = k + 1) if (out_frame[k] !== ping[k]) pong_ok = 1'b0;
                if (ping_n == 0) $display("FAIL a PONG answered one of the invalid vectors");
                else if (!pong_ok) $display("PONG crc_ok=%0d user=%0d n=%0d/%0d hdr %02x %02x %02x corr %02x%02x seq %04x", crc_ok, f_user, out_n, ping_n, out_frame[0], out_frame[1], out_frame[2], out_frame[5], out_frame[6], ping_seq);
            end
            if (out_frame[1] == 8'h0b && out_frame[2] == 8'h01 && crc_ok && out_frame[5] == 8'h70 &&
                (out_frame[6] == 8'h01 || out_frame[6] == 8'h02)) begin : check_err
                integer k;
                // the ERROR body's code field: uint 111 = 0x18 0x6f
                for (k = 9; k < out_n - 5; k = k + 1)
                    if (out_frame[k] == 8'h18 && out_frame[k + 1] == 8'h6f) begin
                        err111_seen = err111_seen + 1;
                        k = out_n;
                    end
            end
            out_n = 0;
            crc_init <= 1'b1;
        end
    end
end

task send_byte(input [7:0] b);
    integer i;
    begin
        rxd = 1'b0; repeat (CPB) @(posedge clk);
        for (i = 0; i < 8; i = i + 1) begin rxd = b[i]; repeat (CPB) @(posedge clk); end
        rxd = 1'b1; repeat (CPB) @(posedge clk);
    end
endtask

// a frame (header + body + CRC-32C), COBS-encoded, then the delimiter
reg [7:0] fr [0:127];
reg [7:0] enc [0:255];
task send_frame(input [7:0] typ, input [15:0] seq, input integer blen);   // body in fr[9..]
    integer j, en, cp;
    reg [31:0] c;
    reg [7:0] code;
    begin
        fr[0] = 8'h01; fr[1] = typ; fr[2] = 8'h00; fr[3] = seq[15:8]; fr[4] = seq[7:0];
        fr[5] = 8'h00; fr[6] = 8'h00; fr[7] = blen[15:8]; fr[8] = blen[7:0];
        c = 32'hffffffff;
        for (j = 0; j < 9 + blen; j = j + 1) c = crc_step(c, fr[j]);
        c = ~c;
        fr[9 + blen] = c[7:0]; fr[10 + blen] = c[15:8]; fr[11 + blen] = c[23:16]; fr[12 + blen] = c[31:24];
        en = 1; cp = 0; code = 8'd1;
        for (j = 0; j < 13 + blen; j = j + 1) begin
            if (fr[j] == 8'h00) begin
                enc[cp] = code; cp = en; en = en + 1; code = 8'd1;
            end else begin
                enc[en] = fr[j]; en = en + 1; code = code + 8'd1;
            end
        end
        enc[cp] = code;
        for (j = 0; j < en; j = j + 1) send_byte(enc[j]);
        send_byte(8'h00);
    end
endtask
function [31:0] crc_step(input [31:0] c0, input [7:0] d);
    integer b;
    begin
        crc_step = c0 ^ {24'd0, d};
        for (b = 0; b < 8; b = b + 1)
            crc_step = crc_step[0] ? ((crc_step >> 1) ^ 32'h82F63B78) : (crc_step >> 1);
    end
endfunction

reg [7:0] inv [0:8191];
reg [7:0] val [0:65535];
integer i, p, n, nrec, r, len, wlen, errors = 0, bad_before, found;
reg [8*256-1:0] inv_path, val_path;

initial begin
    if (!$value$plusargs("invalid=%s", inv_path)) inv_path = "../../protocol/vectors/invalid-wire.hex";
    if (!$value$plusargs("valid=%s", val_path)) val_path = "../../protocol/vectors/valid-frames.hex";
    for (i = 0; i < 8192; i = i + 1) inv[i] = 8'hxx;
    $readmemh(inv_path, inv);
    $readmemh(val_path, val);
    repeat (20) @(posedge clk);
    rst <= 1'b0;
    repeat (200) @(posedge clk);

    // 1. the invalid stream
    bad_before = bad_frames;
    n = 0;
    while (inv[n] !== 8'hxx && n < 8192) begin
        send_byte(inv[n]);
        n = n + 1;
    end
    repeat (40 * CPB) @(posedge clk);
    if (bad_frames - bad_before < EXPECT_BAD) begin
        errors = errors + 1;
        $display("FAIL only %0d bad frames counted for %0d invalid bytes", bad_frames - bad_before, n);
    end

    // 2. find the first PING with a body longer than a0 (ping-data) and send its wire bytes
    nrec = {val[0], val[1]};
    p = 2;
    found = 0;
    for (r = 0; r < nrec && !found; r = r + 2) begin
        len = {val[p], val[p+1]};
        wlen = {val[p+2+len], val[p+3+len]};
        if (val[p+3] == 8'h06 && len > 14) begin
            found = 1;
            for (i = 0; i < len; i = i + 1) ping[i] = val[p + 2 + i];
            ping_n = len;
            ping_seq = {val[p+2+3], val[p+2+4]};
            for (i = 0; i < wlen; i = i + 1) send_byte(val[p + 4 + len + i]);
        end
        p = p + 4 + len + wlen;
    end
    if (!found) begin errors = errors + 1; $display("FAIL no ping-data vector"); end
    i = 0;
    // the device answers the invalid requests with ERRORs first (their answers are longer than
    // the requests, so a backlog builds in the receive FIFO): allow for all of them
    while (!pong_seen && i < 4000000) begin @(posedge clk); i = i + 1; end
    if (!pong_seen) begin errors = errors + 1; $display("FAIL no PONG"); end
    else if (!pong_ok) begin errors = errors + 1; $display("FAIL PONG header/CRC/body differs from the golden pong-data"); end

    // 3. hostile lengths: {0: bstr of length 0xFFFFFFFE} and a map of 65,537 pairs holding one
    fr[9] = 8'ha1; fr[10] = 8'h00; fr[11] = 8'h5a; fr[12] = 8'hff; fr[13] = 8'hff; fr[14] = 8'hff; fr[15] = 8'hfe;
    fr[16] = 8'h01; fr[17] = 8'h02;
    send_frame(8'h06, 16'h7001, 9);
    fr[9] = 8'hba; fr[10] = 8'h00; fr[11] = 8'h01; fr[12] = 8'h00; fr[13] = 8'h01; fr[14] = 8'h00; fr[15] = 8'h41; fr[16] = 8'h07;
    send_frame(8'h06, 16'h7002, 8);
    i = 0;
    while (err111_seen < 2 && i < 400000) begin @(posedge clk); i = i + 1; end
    if (err111_seen != 2) begin
        errors = errors + 1;
        $display("FAIL %0d of 2 hostile-length PINGs answered with ERROR 111 (cbor)", err111_seen);
    end

    if (errors == 0) $display("PASS tb_edge_core: %0d invalid-wire bytes, %0d bad frames counted, golden PING answered with the golden PONG body, 2 hostile CBOR lengths refused (111)", n, bad_frames - bad_before);
    else begin
        $display("FAIL tb_edge_core: %0d errors", errors);
        $fatal(1);
    end
    $finish;
end

initial begin
    #100_000_000;
    $display("FAIL tb_edge_core: timeout");
    $fatal(1);
end

endmodule
