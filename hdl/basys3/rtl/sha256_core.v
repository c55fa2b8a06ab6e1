// sha256_core: one SHA-256 compression (FIPS 180-4) per start, bit-serial.
//
// Why bit-serial: the endpoint hashes a few hundred bytes per handshake or
// deployment and the link delivers a byte every 868 clocks at 115200 baud,
// so throughput is worth nothing and LUTs are worth a lot (issue 8: 15% of
// the XC7A35T). One bit per clock turns every 32-bit adder into a full adder
// and a carry flip-flop, and every 32-bit word into a shift register, which
// synth_xilinx maps to SRLC32E (32 bits in one LUT).
//
// Storage, each a shift line, newest bit at index 0, words LSB first:
// - la: a,b,c,d (128 bits). Since b(t) = a(t-1), c(t) = a(t-2), ..., the
//   four words are one line that the new a is shifted into; at round t,
//   cycle j, a[j] = la[31], b[j] = la[63], c[j] = la[95], d[j] = la[127].
//   A rotation tap a[(j+k) mod 32] is la[31-k] while j+k < 32 and
//   la[63-k] after it wraps (the low bits of a(t) have moved on into b's
//   place, still in the line).
// - le: e,f,g,h, the same way.
// - lw: the message schedule, 16 words (512 bits). The block is pushed in
//   (m_bit) word 0 first; during rounds 0..15 the tail (w[t]) is fed back in,
//   so from round 16 on w[t-2], w[t-7], w[t-15], w[t-16] are fixed taps.
// - hr: the chaining value H0..H7, 256 flip-flops that rotate one bit per
//   clock only while it is updated, so they need no multiplexer and drive
//   the `digest` port directly.
// - K: a 2048 x 1 ROM (K[t] bit j at 32t+j), read synchronously: block RAM.
//
// Timing per block: 64 rounds x 32 clocks + 256 clocks to add the working
// variables into H (one serial adder: d,c,b,a into H3..H0, then h,g,f,e
// into H7..H4, which also reloads the lines with the new H for the next
// block). `init` starts from the IV with one more 256-clock pass (H = IV,
// lines = IV). Loading the block (512 pushes) is the caller's.
// Total: 2304 clocks per compression (+256 with init) after the 512 pushes.
// Longest combinational path: 8 LUT levels, lw tap -> σ1 -> w[t] -> T1 ->
// a' carry (yosys `synth; abc -lut 6; ltp -noff`), against the 32-bit
// five-operand carry chain of a one-round-per-clock core; no Vivado timing run.
// Mapped into the whole design (synth_xilinx, scripts/hdl-lut-depth.ts) it stays within the
// design's 6-LUT-level limit (README "Timing margin").
`resetall
`timescale 1ns / 1ps
`default_nettype none

module sha256_core
(
    input  wire         clk,
    input  wire         rst,

    /* message block in, one bit per transfer: word 0 first, each word LSB first */
    input  wire         m_bit,
    input  wire         m_valid,
    output wire         m_ready,   // idle: the 512 bits of the next block may be pushed

    input  wire         start,     // after 512 pushes: compress them (ignored while busy)
    input  wire         init,      // with start: begin a new message from the IV

    output wire         busy,
    output wire         done,      // one-clock strobe when `digest` is updated

    /* the new H as it is computed (not during the IV pass): H3,H2,H1,H0,H7,H6,H5,H4, LSB first */
    output wire         h_bit,
    output wire         h_valid,

    output wire [255:0] digest     // {H0, ..., H7}, valid from done until the next start
);

localparam [255:0] IV = {32'h6a09e667, 32'hbb67ae85, 32'h3c6ef372, 32'ha54ff53a,
                         32'h510e527f, 32'h9b05688c, 32'h1f83d9ab, 32'h5be0cd19};

// hr rotates right (hr[0] leaves first); at rest hr = {H4,H5,H6,H7,H0,H1,H2,H3}
// with H3 in hr[31:0], i.e. the two halves of {H0..H7} swapped
localparam [255:0] IV_RING = {IV[127:0], IV[255:128]};

localparam [1:0] S_IDLE = 2'd0, S_INIT = 2'd1, S_ROUND = 2'd2, S_CHAIN = 2'd3;

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

// K as 2048 x 1 bits: K[t] bit j at address {t, j}
(* rom_style = "block", ram_style = "block" *)
reg krom [0:2047];
reg [11:0] ki;
reg [31:0] kword;
initial begin
    for (ki = 12'd0; ki < 12'd2048; ki = ki + 12'd1) begin
        kword = k_of(ki[10:5]);
        krom[ki[10:0]] = kword[ki[4:0]];
    end
end

reg  [1:0]   st_reg   = S_IDLE;
reg  [10:0]  cnt_reg  = 11'd0;   // rounds: {t, j}; passes: {half, word, j} in cnt_reg[7:0]
reg          done_reg = 1'b0;
reg          k_bit    = 1'b0;    // K[t] bit j, read a clock ahead
reg  [10:0]  cy_reg   = 11'd0;   // carries of the serial adders, cleared after bit 31
reg  [127:0] la, le;             // shift lines, no reset and no load: SRLs
reg  [511:0] lw;
reg  [255:0] hr = IV_RING;

wire [4:0]  j       = cnt_reg[4:0];
wire        idle    = (st_reg == S_IDLE);
wire        rounds  = (st_reg == S_ROUND);
wire        pass    = (st_reg == S_INIT) || (st_reg == S_CHAIN);
wire        pass_hi = cnt_reg[7];                 // second half of a pass: the e line
wire        last    = rounds ? (&cnt_reg) : (&cnt_reg[7:0]);
wire [10:0] cnt_d   = (idle || last) ? 11'd0 : cnt_reg + 11'd1;

// ---------------------------------------------------------------- round, one bit
// Serial adders are {carry, sum} = x + y + carry-in, written out rather than
// as a function: Icarus evaluates a function call in a continuous assignment
// as a thread, which made the testbench 1.6 times slower.
wire a_j = la[31], b_j = la[63], c_j = la[95], d_j = la[127];
wire e_j = le[31], f_j = le[63], g_j = le[95], h_j = le[127];
// Σ0(a) = a>>>2 ^ a>>>13 ^ a>>>22, Σ1(e) = e>>>6 ^ e>>>11 ^ e>>>25
wire S0  = (j < 5'd30 ? la[29] : la[61]) ^ (j < 5'd19 ? la[18] : la[50]) ^ (j < 5'd10 ? la[9] : la[41]);
wire S1  = (j < 5'd26 ? le[25] : le[57]) ^ (j < 5'd21 ? le[20] : le[52]) ^ (j < 5'd7  ? le[6] : le[38]);
wire ch  = (e_j & f_j) ^ (~e_j & g_j);
wire maj = (a_j & b_j) ^ (a_j & c_j) ^ (b_j & c_j);
// σ0(w[t-15]) = >>>7 ^ >>>18 ^ >>3, σ1(w[t-2]) = >>>17 ^ >>>19 ^ >>10; w[t-m] bit j+k is
// lw[32m-1-k], or lw[32m+31-k] once it wraps
wire s0  = (j < 5'd25 ? lw[472] : lw[504]) ^ (j < 5'd14 ? lw[461] : lw[493]) ^ (j < 5'd29 && lw[476]);
wire s1  = (j < 5'd15 ? lw[46]  : lw[78])  ^ (j < 5'd13 ? lw[44]  : lw[76])  ^ (j < 5'd22 && lw[53]);

// w[t] = σ1 + w[t-7] + σ0 + w[t-16], or the pushed block (fed back) in rounds 0..15
wire [1:0] w_a = {(s1 & lw[223]) | (cy_reg[0] & (s1 ^ lw[223])), s1 ^ lw[223] ^ cy_reg[0]};
wire [1:0] w_b = {(w_a[0] & s0) | (cy_reg[1] & (w_a[0] ^ s0)), w_a[0] ^ s0 ^ cy_reg[1]};
wire [1:0] w_c = {(w_b[0] & lw[511]) | (cy_reg[2] & (w_b[0] ^ lw[511])), w_b[0] ^ lw[511] ^ cy_reg[2]};
wire       w_t = (cnt_reg[10:9] == 2'd0) ? lw[511] : w_c[0];
// T1 = h + Σ1 + Ch + K + w, e' = d + T1, a' = T1 + Σ0 + Maj
wire [1:0] t_a = {(h_j & S1) | (cy_reg[3] & (h_j ^ S1)), h_j ^ S1 ^ cy_reg[3]};
wire [1:0] t_b = {(t_a[0] & ch) | (cy_reg[4] & (t_a[0] ^ ch)), t_a[0] ^ ch ^ cy_reg[4]};
wire [1:0] t_c = {(t_b[0] & k_bit) | (cy_reg[5] & (t_b[0] ^ k_bit)), t_b[0] ^ k_bit ^ cy_reg[5]};
wire [1:0] t_1 = {(t_c[0] & w_t) | (cy_reg[6] & (t_c[0] ^ w_t)), t_c[0] ^ w_t ^ cy_reg[6]};
wire [1:0] e_n = {(d_j & t_1[0]) | (cy_reg[7] & (d_j ^ t_1[0])), d_j ^ t_1[0] ^ cy_reg[7]};
wire [1:0] a_x = {(t_1[0] & S0) | (cy_reg[8] & (t_1[0] ^ S0)), t_1[0] ^ S0 ^ cy_reg[8]};
wire [1:0] a_n = {(a_x[0] & maj) | (cy_reg[9] & (a_x[0] ^ maj)), a_x[0] ^ maj ^ cy_reg[9]};

// ---------------------------------------------------------------- H += {a..h}, one bit
// the IV pass adds nothing: H = IV goes round once and into the lines
wire       tail  = (st_reg == S_CHAIN) && (pass_hi ? le[127] : la[127]);
wire [1:0] h_sum = {(hr[0] & tail) | (cy_reg[10] & (hr[0] ^ tail)), hr[0] ^ tail ^ cy_reg[10]};

assign m_ready = idle;
assign busy    = !idle;
assign done    = done_reg;
assign h_bit   = h_sum[0];
assign h_valid = (st_reg == S_CHAIN);
assign digest  = {hr[127:0], hr[255:128]};

always @(posedge clk) begin
    k_bit <= krom[cnt_d];
end

always @(posedge clk) begin
    if (rounds || (idle && m_valid)) lw <= {lw[510:0], rounds ? w_t : m_bit};
    if (rounds || (pass && !pass_hi)) la <= {la[126:0], rounds ? a_n[0] : h_sum[0]};
    if (rounds || (pass && pass_hi))  le <= {le[126:0], rounds ? e_n[0] : h_sum[0]};
end

always @(posedge clk) begin
    if (idle && start && init) hr <= IV_RING;
    else if (pass) hr <= {h_sum[0], hr[255:1]};
end

always @(posedge clk) begin
    // a word's carries end with its bit 31
    if (idle || j == 5'd31) cy_reg <= 11'd0;
    else cy_reg <= {h_sum[1], a_n[1], a_x[1], e_n[1], t_1[1], t_c[1], t_b[1], t_a[1], w_c[1], w_b[1], w_a[1]};
end

always @(posedge clk) begin
    done_reg <= 1'b0;
    cnt_reg  <= cnt_d;
    case (st_reg)
    S_IDLE:  if (start) st_reg <= init ? S_INIT : S_ROUND;
    S_INIT:  if (last) st_reg <= S_ROUND;
    S_ROUND: if (last) st_reg <= S_CHAIN;
    default: if (last) begin
        st_reg   <= S_IDLE;
        done_reg <= 1'b1;
    end
    endcase
    if (rst) begin
        st_reg   <= S_IDLE;
        cnt_reg  <= 11'd0;
        done_reg <= 1'b0;
    end
end

endmodule

`resetall
