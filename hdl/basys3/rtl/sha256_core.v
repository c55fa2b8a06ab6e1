// sha256_core: one SHA-256 compression (FIPS 180-4) per start, one round per
// clock: 64 round clocks + 8 clocks of chaining-value addition.
// Area choices (the core is the largest block of the endpoint):
// - the message block is pushed in one 32-bit word per clock (`w_push`) into
//   the 16-word schedule shift register, so there is no 512-bit block
//   register and no parallel-load multiplexer; without a load the schedule
//   is a plain shift chain with taps at w[t], w[t+1], w[t+9], w[t+14], which
//   maps to SRL shift registers instead of 512 flip-flops;
// - the final H += {a..h} is done a word per clock with one adder while the
//   working variables rotate, which also leaves {a..h} = the new H for the
//   next block of the same message.
// `init` with `start` begins a new message from the IV, otherwise the block
// extends the current digest.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module sha256_core
(
    input  wire         clk,
    input  wire         rst,

    input  wire         w_push,    // one message word in (ignored while busy); 16 per block
    input  wire [31:0]  w_data,    // big-endian word, word 0 of the block first
    input  wire         start,     // pulse after 16 pushes: compress them (ignored while busy)
    input  wire         init,      // with start: begin a new message from the IV

    output wire         busy,
    output wire         done,      // one-clock strobe when `digest` is updated
    output wire [255:0] digest
);

localparam [255:0] IV = {32'h6a09e667, 32'hbb67ae85, 32'h3c6ef372, 32'ha54ff53a,
                         32'h510e527f, 32'h9b05688c, 32'h1f83d9ab, 32'h5be0cd19};

function [31:0] k_of;
    input [5:0] t;
    begin
        case (t)
        6'd0:  k_of = 32'h428a2f98; 6'd1:  k_of = 32'h71374491; 6'd2:  k_of = 32'hb5c0fbcf; 6'd3:  k_of = 32'he9b5dba5;
        6'd4:  k_of = 32'h3956c25b; 6'd5:  k_of = 32'h59f111f1; 6'd6:  k_of = 32'h923f82a4; 6'd7:  k_of = 32'hab1c5ed5;
        6'd8:  k_of = 32'hd807aa98; 6'd9:  k_of = 32'h12835b01; 6'd10: k_of = 32'h243185be; 6'd11: k_of = 32'h550c7dc3;
        6'd12: k_of = 32'h72be5d74; 6'd13: k_of = 32'h80deb1fe; 6'd14: k_of = 32'h9bdc06a7; 6'd15: k_of = 32'hc19bf174;
        6'd16: k_of = 32'he49b69c1; 6'd17: k_of = 32'hefbe4786; 6'd18: k_of = 32'h0fc19dc6; 6'd19: k_of = 32'h240ca1cc;
        6'd20: k_of = 32'h2de92c6f; 6'd21: k_of = 32'h4a7484aa; 6'd22: k_of = 32'h5cb0a9dc; 6'd23: k_of = 32'h76f988da;
        6'd24: k_of = 32'h983e5152; 6'd25: k_of = 32'ha831c66d; 6'd26: k_of = 32'hb00327c8; 6'd27: k_of = 32'hbf597fc7;
        6'd28: k_of = 32'hc6e00bf3; 6'd29: k_of = 32'hd5a79147; 6'd30: k_of = 32'h06ca6351; 6'd31: k_of = 32'h14292967;
        6'd32: k_of = 32'h27b70a85; 6'd33: k_of = 32'h2e1b2138; 6'd34: k_of = 32'h4d2c6dfc; 6'd35: k_of = 32'h53380d13;
        6'd36: k_of = 32'h650a7354; 6'd37: k_of = 32'h766a0abb; 6'd38: k_of = 32'h81c2c92e; 6'd39: k_of = 32'h92722c85;
        6'd40: k_of = 32'ha2bfe8a1; 6'd41: k_of = 32'ha81a664b; 6'd42: k_of = 32'hc24b8b70; 6'd43: k_of = 32'hc76c51a3;
        6'd44: k_of = 32'hd192e819; 6'd45: k_of = 32'hd6990624; 6'd46: k_of = 32'hf40e3585; 6'd47: k_of = 32'h106aa070;
        6'd48: k_of = 32'h19a4c116; 6'd49: k_of = 32'h1e376c08; 6'd50: k_of = 32'h2748774c; 6'd51: k_of = 32'h34b0bcb5;
        6'd52: k_of = 32'h391c0cb3; 6'd53: k_of = 32'h4ed8aa4a; 6'd54: k_of = 32'h5b9cca4f; 6'd55: k_of = 32'h682e6ff3;
        6'd56: k_of = 32'h748f82ee; 6'd57: k_of = 32'h78a5636f; 6'd58: k_of = 32'h84c87814; 6'd59: k_of = 32'h8cc70208;
        6'd60: k_of = 32'h90befffa; 6'd61: k_of = 32'ha4506ceb; 6'd62: k_of = 32'hbef9a3f7; default: k_of = 32'hc67178f2;
        endcase
    end
endfunction

function [31:0] rotr;
    input [31:0] x;
    input integer n;
    begin
        rotr = (x >> n) | (x << (32 - n));
    end
endfunction

reg [255:0] h_reg = IV;
reg [31:0]  a = IV[255:224], b = IV[223:192], c = IV[191:160], d = IV[159:128];
reg [31:0]  e = IV[127:96],  f = IV[95:64],   g = IV[63:32],   h = IV[31:0];
reg [6:0]   t_reg = 7'd0;      // 0..63 rounds, 64..71 chaining-value addition
reg         busy_reg = 1'b0;
reg         done_reg = 1'b0;

// schedule: w[k] holds w[t+k]; no reset and no load, so it stays a shift chain
reg [31:0] w [0:15];

wire [31:0] w0  = w[0];
wire [31:0] w1  = w[1];
wire [31:0] w9  = w[9];
wire [31:0] w14 = w[14];
wire [31:0] s0  = rotr(w1, 7) ^ rotr(w1, 18) ^ (w1 >> 3);
wire [31:0] s1  = rotr(w14, 17) ^ rotr(w14, 19) ^ (w14 >> 10);
wire [31:0] w16 = s1 + w9 + s0 + w0;

wire        rounds = busy_reg && !t_reg[6];
wire        adding = busy_reg && t_reg[6];
wire        w_shift = rounds || (w_push && !busy_reg);
wire [31:0] w_in    = busy_reg ? w16 : w_data;

wire [31:0] S1  = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
wire [31:0] ch  = (e & f) ^ (~e & g);
wire [31:0] T1  = h + S1 + ch + k_of(t_reg[5:0]) + w0;
wire [31:0] S0  = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
wire [31:0] maj = (a & b) ^ (a & c) ^ (b & c);
wire [31:0] T2  = S0 + maj;
// chaining value, a word per clock: H7 + h first, H0 + a last
wire [31:0] h_new = h_reg[31:0] + h;

assign busy   = busy_reg;
assign done   = done_reg;
assign digest = h_reg;

integer k;
always @(posedge clk) begin
    if (w_shift) begin
        for (k = 0; k < 15; k = k + 1) w[k] <= w[k + 1];
        w[15] <= w_in;
    end
end

always @(posedge clk) begin
    done_reg <= 1'b0;
    if (!busy_reg) begin
        if (start) begin
            if (init) begin
                h_reg <= IV;
                {a, b, c, d, e, f, g, h} <= IV;
            end
            t_reg    <= 7'd0;
            busy_reg <= 1'b1;
        end
    end else begin
        // rounds and the addition share the rotation of the working variables
        h <= g; g <= f; f <= e; d <= c; c <= b; b <= a;
        if (rounds) begin
            e <= d + T1;
            a <= T1 + T2;
        end else begin
            e <= d;
            a <= h_new;
            h_reg <= {h_new, h_reg[255:32]};
        end
        t_reg <= t_reg + 7'd1;
        if (adding && t_reg[2:0] == 3'd7) begin
            busy_reg <= 1'b0;
            done_reg <= 1'b1;
        end
    end
    if (rst) begin
        busy_reg <= 1'b0;
        done_reg <= 1'b0;
        h_reg    <= IV;
    end
end

endmodule

`resetall
