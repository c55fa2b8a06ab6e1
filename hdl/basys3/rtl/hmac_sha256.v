// hmac_sha256: byte-stream front end for sha256_core.
//   HMAC mode:  digest = SHA256((K^opad) || SHA256((K^ipad) || msg))   (RFC 2104)
//   plain mode: digest = SHA256(msg)
// The key is 32 bytes (key[255:248] first), zero-padded to the 64-byte block
// as RFC 2104 prescribes for short keys. Message bytes arrive on s_axis with
// tlast on the last one; an empty message is given as start with msg_empty.
// Bytes are packed into 32-bit words and pushed into the core one word at a
// time (no block register). Padding (0x80, zeros, 64-bit bit length) is pushed through the same byte
// path as the data: slower by ~70 clocks per message, but one datapath.
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

// byte sources, in the order they are absorbed
localparam [2:0] P_IDLE = 3'd0, P_IPAD = 3'd1, P_MSG = 3'd2, P_PAD = 3'd3,
                 P_OPAD = 3'd4, P_INNER = 3'd5, P_WAIT = 3'd6;

reg [2:0]   phase_reg  = P_IDLE;
reg         hmac_reg   = 1'b0;
reg         outer_reg  = 1'b0;     // absorbing the outer hash
reg [23:0]  acc_reg    = 24'd0;    // the first 1..3 bytes of the current word
reg [5:0]   fill_reg   = 6'd0;     // bytes of the current block absorbed
reg [31:0]  len_reg    = 32'd0;    // bytes absorbed in this hash
reg [6:0]   idx_reg    = 7'd0;     // byte index in key pad / inner digest / padding
reg         first_reg  = 1'b1;     // next compression starts from the IV
reg         start_core = 1'b0;
reg         done_reg   = 1'b0;
reg [255:0] inner_reg  = 256'd0;
reg         empty_reg  = 1'b0;     // HMAC of an empty message: skip P_MSG
reg         wrap_reg   = 1'b0;     // 0x80 landed past byte 55: the length goes in one more block

wire         core_busy, core_done;
wire [255:0] core_digest;


// the absorber can take a byte when no compression is pending
wire can_take = !start_core && !core_busy;

wire [7:0] key_byte = key[255 - 8 * idx_reg[4:0] -: 8];
wire [7:0] kb       = idx_reg[5] ? 8'h00 : key_byte;
wire [7:0] inner_b  = inner_reg[255 - 8 * idx_reg[4:0] -: 8];
wire [63:0] bitlen  = {29'd0, len_reg, 3'b000};

// padding byte idx (0 = 0x80), length in the last 8 bytes of the final block
wire pad_len_phase = (fill_reg >= 6'd56) && (idx_reg != 7'd0) && !wrap_reg;
wire [7:0] pad_b   = (idx_reg == 7'd0) ? 8'h80 :
                     (pad_len_phase ? bitlen[63 - 8 * (fill_reg - 6'd56) -: 8] : 8'h00);

reg  [7:0] byte_in;
reg        byte_ok;
always @* begin
    byte_in = 8'h00;
    byte_ok = 1'b0;
    case (phase_reg)
    P_IPAD:  begin byte_in = kb ^ 8'h36; byte_ok = can_take; end
    P_OPAD:  begin byte_in = kb ^ 8'h5c; byte_ok = can_take; end
    P_MSG:   begin byte_in = s_axis_tdata; byte_ok = can_take && s_axis_tvalid; end
    P_INNER: begin byte_in = inner_b; byte_ok = can_take; end
    P_PAD:   begin byte_in = pad_b; byte_ok = can_take; end
    default: ;
    endcase
end

// every fourth byte completes a word, which goes straight into the core's schedule
wire        w_push = byte_ok && (fill_reg[1:0] == 2'd3);

sha256_core core (
    .clk(clk), .rst(rst), .w_push(w_push), .w_data({acc_reg, byte_in}),
    .start(start_core), .init(first_reg),
    .busy(core_busy), .done(core_done), .digest(core_digest));

assign s_axis_tready = (phase_reg == P_MSG) && can_take;
assign busy   = (phase_reg != P_IDLE);
assign done   = done_reg;
assign digest = core_digest;

always @(posedge clk) begin
    start_core <= 1'b0;
    done_reg   <= 1'b0;
    if (core_done) first_reg <= 1'b0;

    if (byte_ok) begin
        acc_reg  <= {acc_reg[15:0], byte_in};
        fill_reg <= fill_reg + 6'd1;
        if (phase_reg == P_PAD && idx_reg == 7'd0) wrap_reg <= (fill_reg > 6'd55);
        // a full block is compressed; whatever the padding still owes fits in the next one
        if (fill_reg == 6'd63) begin
            start_core <= 1'b1;
            wrap_reg   <= 1'b0;
        end
        if (phase_reg != P_PAD) len_reg <= len_reg + 32'd1;
        idx_reg <= idx_reg + 7'd1;

        case (phase_reg)
        P_IPAD, P_OPAD: if (idx_reg == 7'd63) begin
            phase_reg <= (phase_reg == P_OPAD) ? P_INNER : (empty_reg ? P_PAD : P_MSG);
            idx_reg   <= 7'd0;
        end
        P_MSG: if (s_axis_tlast) begin
            phase_reg <= P_PAD;
            idx_reg   <= 7'd0;
        end
        P_INNER: if (idx_reg == 7'd31) begin
            phase_reg <= P_PAD;
            idx_reg   <= 7'd0;
        end
        P_PAD: if (fill_reg == 6'd63 && idx_reg != 7'd0 && pad_len_phase) begin
            // the length went into the last 8 bytes: hash complete after this block
            phase_reg <= P_WAIT;
        end
        default: ;
        endcase
    end

    if (phase_reg == P_WAIT && core_done) begin
        if (hmac_reg && !outer_reg) begin
            inner_reg <= core_digest;
            outer_reg <= 1'b1;
            first_reg <= 1'b1;
            len_reg   <= 32'd0;
            idx_reg   <= 7'd0;
            phase_reg <= P_OPAD;
        end else begin
            phase_reg <= P_IDLE;
            done_reg  <= 1'b1;
        end
    end

    if (phase_reg == P_IDLE && start) begin
        hmac_reg  <= hmac;
        empty_reg <= msg_empty;
        wrap_reg  <= 1'b0;
        outer_reg <= 1'b0;
        first_reg <= 1'b1;
        fill_reg  <= 6'd0;
        len_reg   <= 32'd0;
        idx_reg   <= 7'd0;
        phase_reg <= hmac ? P_IPAD : (msg_empty ? P_PAD : P_MSG);
    end

    if (rst) begin
        phase_reg  <= P_IDLE;
        start_core <= 1'b0;
        done_reg   <= 1'b0;
        first_reg  <= 1'b1;
        fill_reg   <= 6'd0;
    end
end

endmodule

`resetall
