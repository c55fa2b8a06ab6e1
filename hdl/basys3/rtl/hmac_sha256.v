// hmac_sha256: byte-stream front end for the bit-serial sha256_core.
//   HMAC mode:  digest = SHA256((K^opad) || SHA256((K^ipad) || msg))   (RFC 2104)
//   plain mode: digest = SHA256(msg)
// The key is 32 bytes (key[255:248] first), zero-padded to the 64-byte block
// as RFC 2104 prescribes for short keys. Message bytes arrive on s_axis with
// tlast on the last one; an empty message is given as start with msg_empty.
//
// The core takes its block one bit per clock, each 32-bit word LSB first.
// A word's bits come from one of four sources, chosen by the stage of the
// hash, so nothing here is wider than one word:
// - key block: bit j of word w is key[32*(7-w)+j] ^ pad, straight from the
//   port (with a constant key, as edge_core has, that is a 256 x 1 ROM);
// - message and 0x80/zero pad bytes: four bytes are collected big-endian in
//   `wbuf`, then shifted out LSB first;
// - inner digest (second block of the outer hash): read back from `istore`,
//   a 256-bit shift line (SRLs) that records the core's H output stream
//   while the inner hash is computed;
// - zeros and the 64-bit bit length: the byte count is itself a 32-bit
//   shift line rotating in step with the bits pushed (an SRL and a serial
//   adder instead of a 32-bit counter and a 32:1 read multiplexer).
// Clocks: 36 per message word, 32 per other word, then 2304 per block
// compression (+256 for the IV); see sha256_core.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module hmac_sha256
(
    input  wire         clk,
    input  wire         rst,

    input  wire         start,      // pulse when idle: begin a message
    input  wire         hmac,       // with start: 1 = HMAC with `key`, 0 = plain SHA-256
    input  wire         msg_empty,  // with start: the message has no bytes
    input  wire [255:0] key,

    input  wire [7:0]   s_axis_tdata,
    input  wire         s_axis_tvalid,
    output wire         s_axis_tready,
    input  wire         s_axis_tlast,

    output wire         busy,
    output wire         done,       // one-clock strobe: `digest` is valid until the next start
    output wire [255:0] digest
);

localparam [1:0] S_IDLE = 2'd0, S_FILL = 2'd1, S_SER = 2'd2, S_COMP = 2'd3;
// stage of the hash: which source the words come from
localparam [1:0] G_KEY = 2'd0, G_INNER = 2'd1, G_MSG = 2'd2, G_TAIL = 2'd3;

reg  [1:0]   st_reg     = S_IDLE;
reg  [1:0]   stage_reg  = G_KEY;
reg          hmac_reg   = 1'b0;
reg          outer_reg  = 1'b0;     // absorbing the outer hash
reg          first_reg  = 1'b1;     // next compression starts from the IV
reg          msg_on     = 1'b0;     // message bytes still to come
reg          p80_reg    = 1'b0;     // the 0x80 pad byte has been placed
reg          len_here   = 1'b0;     // this block ends with the length (words 14, 15)
reg          last_blk   = 1'b0;     // the block being compressed completes the hash
reg          start_core = 1'b0;
reg          done_reg   = 1'b0;
reg  [3:0]   w_reg      = 4'd0;     // word of the block
reg  [4:0]   j_reg      = 5'd0;     // bit of the word
reg  [1:0]   bcnt_reg   = 2'd0;     // bytes collected in wbuf
reg  [2:0]   nmsg_reg   = 3'd0;     // message bytes in this word (added to the length)
reg  [31:0]  wbuf       = 32'd0;
// byte count of the hash, rotating with the pushed bits: lenr[0] is bit j of it
reg  [31:0]  lenr       = 32'd0;
reg  [2:0]   ldly       = 3'd0;     // the count 3 bits late = the bit length (count * 8)
reg          lcy        = 1'b0;
reg          len_clr    = 1'b1;     // first word of a hash: the count starts from 0
reg  [255:0] istore;

wire         core_done, core_h_bit, core_h_valid;
wire [255:0] core_digest;

// ---------------------------------------------------------------- the bit pushed
wire [7:0] pad_byte  = outer_reg ? 8'h5c : 8'h36;
wire       key_bit   = !w_reg[3] && key[{~w_reg[2:0], j_reg}];
wire       kp_bit    = key_bit ^ pad_byte[j_reg[2:0]];
// istore holds H3,H2,H1,H0,H7,H6,H5,H4 (LSB first, oldest deepest): bit j of H(w) is at
// 255 - (32 * slot(w) + j) with slot = {w[2], ~w[1:0]}
wire       inner_bit = istore[{~w_reg[2], w_reg[1:0], ~j_reg}];
// the bit length {count, 3'b000}: word 14 holds count[31:29], word 15 count[28:0] << 3
wire       len_bit   = w_reg[0] ? (j_reg >= 5'd3 && ldly[2]) : (j_reg < 5'd3 && ldly[2]);
wire       tail_bit  = len_here && (w_reg >= 4'd14) && len_bit;

reg m_bit;
reg [2:0] add_n;                     // bytes this word adds to the count
always @* begin
    case (stage_reg)
    G_KEY:   begin m_bit = kp_bit;      add_n = 3'd4; end
    G_INNER: begin m_bit = inner_bit;   add_n = 3'd4; end
    G_MSG:   begin m_bit = wbuf[j_reg]; add_n = nmsg_reg; end
    default: begin m_bit = tail_bit;    add_n = 3'd0; end
    endcase
end

wire        push   = (st_reg == S_SER);
wire [31:0] add_w  = {29'd0, add_n};
wire        l_old  = !len_clr && lenr[0];
wire        l_sum  = l_old ^ add_w[j_reg] ^ lcy;
wire        l_cy   = (l_old & add_w[j_reg]) | (l_old & lcy) | (add_w[j_reg] & lcy);

// ---------------------------------------------------------------- message and pad bytes
wire [7:0] fill_byte = msg_on ? s_axis_tdata : (p80_reg ? 8'h00 : 8'h80);
wire       fill_ok   = (st_reg == S_FILL) && (!msg_on || s_axis_tvalid);

sha256_core core (
    .clk(clk), .rst(rst),
    .m_bit(m_bit), .m_valid(push), /* verilator lint_off PINCONNECTEMPTY */ .m_ready(), /* verilator lint_on PINCONNECTEMPTY */
    .start(start_core), .init(first_reg),
    /* verilator lint_off PINCONNECTEMPTY */ .busy(), /* verilator lint_on PINCONNECTEMPTY */ .done(core_done),
    .h_bit(core_h_bit), .h_valid(core_h_valid),
    .digest(core_digest));

assign s_axis_tready = (st_reg == S_FILL) && msg_on;
assign busy   = (st_reg != S_IDLE);
assign done   = done_reg;
assign digest = core_digest;

// the inner hash's H stream; after its last block this is the inner digest
always @(posedge clk) begin
    if (core_h_valid && !outer_reg) istore <= {istore[254:0], core_h_bit};
end

always @(posedge clk) begin
    if (push) begin
        lenr <= {l_sum, lenr[31:1]};
        ldly <= {ldly[1:0], l_sum};
        lcy  <= (j_reg == 5'd31) ? 1'b0 : l_cy;
    end
    if (rst) lcy <= 1'b0;
end

always @(posedge clk) begin
    start_core <= 1'b0;
    done_reg   <= 1'b0;

    case (st_reg)
    S_IDLE: if (start) begin
        hmac_reg  <= hmac;
        outer_reg <= 1'b0;
        first_reg <= 1'b1;
        len_clr   <= 1'b1;
        msg_on    <= !msg_empty;
        p80_reg   <= 1'b0;
        w_reg     <= 4'd0;
        j_reg     <= 5'd0;
        bcnt_reg  <= 2'd0;
        nmsg_reg  <= 3'd0;
        stage_reg <= hmac ? G_KEY : G_MSG;
        st_reg    <= hmac ? S_SER : S_FILL;
    end
    S_FILL: if (fill_ok) begin
        wbuf     <= {wbuf[23:0], fill_byte};
        bcnt_reg <= bcnt_reg + 2'd1;
        if (msg_on) begin
            nmsg_reg <= nmsg_reg + 3'd1;
            if (s_axis_tlast) msg_on <= 1'b0;
        end else begin
            p80_reg <= 1'b1;
        end
        if (bcnt_reg == 2'd3) st_reg <= S_SER;
    end
    S_SER: begin
        j_reg <= j_reg + 5'd1;
        if (j_reg == 5'd31) begin
            // end of a word
            w_reg    <= w_reg + 4'd1;
            nmsg_reg <= 3'd0;
            len_clr  <= 1'b0;
            case (stage_reg)
            G_KEY:   if (w_reg == 4'd15) stage_reg <= outer_reg ? G_INNER : G_MSG;
            G_INNER: if (w_reg == 4'd7)  stage_reg <= G_MSG;
            G_MSG:   if (p80_reg)        stage_reg <= G_TAIL;
            default: ;
            endcase
            // the length goes in this block if the 0x80 word is word 13 or earlier,
            // and always in the block after
            if (w_reg == 4'd15) len_here <= 1'b1;
            else if (stage_reg == G_MSG && p80_reg) len_here <= (w_reg <= 4'd13);
            if (w_reg == 4'd15) begin
                start_core <= 1'b1;
                last_blk   <= (stage_reg == G_TAIL) && len_here;
                st_reg     <= S_COMP;
            end else if ((stage_reg == G_MSG && !p80_reg) || (stage_reg == G_INNER && w_reg == 4'd7)) begin
                st_reg <= S_FILL;
            end
        end
    end
    default: if (core_done) begin
        // S_COMP: the block is compressed
        first_reg <= 1'b0;
        if (!last_blk) begin
            st_reg <= (stage_reg == G_MSG) ? S_FILL : S_SER;
        end else if (hmac_reg && !outer_reg) begin
            // inner digest in istore: the outer hash, from the IV, over K^opad then it
            outer_reg <= 1'b1;
            first_reg <= 1'b1;
            len_clr   <= 1'b1;
            p80_reg   <= 1'b0;
            stage_reg <= G_KEY;
            st_reg    <= S_SER;
        end else begin
            done_reg <= 1'b1;
            st_reg   <= S_IDLE;
        end
    end
    endcase

    if (rst) begin
        st_reg     <= S_IDLE;
        start_core <= 1'b0;
        done_reg   <= 1'b0;
    end
end

endmodule

`resetall
