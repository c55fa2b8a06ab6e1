// edge_counters: the endpoint's 32-bit counters and millisecond timers, kept in
// one small distributed-RAM bank and updated by a single shared adder.
//
// None of them changes more than once per millisecond or per frame, so instead
// of eight 32-bit registers with eight incrementers and three 32-bit
// comparators, each event only sets a pending bit; a scanner visits one slot
// per clock and does its read-modify-write (asynchronous LUTRAM read, adder,
// write back). Every slot is visited every 8 clocks, far more often than any
// event can recur (a millisecond or a UART byte is hundreds of clocks).
//
// The timers count DOWN from their period and are due at zero, so "due" is a
// flag kept when the slot is written, not a 32-bit comparison:
//   hb    heartbeat: due hb_period ms after reload_hb
//   st    STATE:     due st_period ms after reload_st
//   link  a good-or-bad frame seen in the last 2 heartbeat periods: loaded
//         with hb_period, decremented every second millisecond
// A reload clears the flag at once, so a caller never sees a stale "due".
// Counters (uptime, good, bad, oversize frames, inferences served) wrap mod 2^32
// exactly like the registers they replace. The emitter reads any slot through
// a second read port (rd_sel / rd_val).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module edge_counters #
(
    parameter [31:0] HB_PERIOD0 = 32'd10000,   // heartbeat period until the server sets one
    parameter [31:0] ST_PERIOD0 = 32'd3000     // STATE period until the server sets one
)
(
    input  wire        clk,
    input  wire        rst,
    input  wire        tick,          // one clock per millisecond

    input  wire        inc_good,
    input  wire        inc_bad,
    input  wire        inc_over,
    input  wire        inc_served,
    input  wire        clr_served,

    input  wire        set_hb,        // new periods (0 is never passed: the caller filters it)
    input  wire        set_st,
    input  wire [31:0] period_hb,
    input  wire [31:0] period_st,
    input  wire        reload_hb,
    input  wire        reload_st,
    input  wire        reload_link,

    output reg         hb_due = 1'b0,
    output reg         st_due = 1'b0,
    output wire        link_up,

    input  wire [2:0]  rd_sel,        // S_* below
    output wire [31:0] rd_val,
    output reg  [31:0] good_frames = 32'd0,   // copies for the status outputs (registers, no logic)
    output wire [31:0] bad_frames
);

localparam [2:0] S_UPTIME = 3'd0, S_GOOD = 3'd1, S_BAD = 3'd2, S_OVER = 3'd3, S_SERVED = 3'd4,
                 S_HB = 3'd5, S_ST = 3'd6, S_LINK = 3'd7;   // the timers are the slots >= S_HB

reg  [31:0] bank [0:7];
integer bi;
initial for (bi = 0; bi < 8; bi = bi + 1) bank[bi] = 32'd0;

reg  [31:0] hb_period = HB_PERIOD0, st_period = ST_PERIOD0;
always @(posedge clk) begin
    if (set_hb) hb_period <= period_hb;
    if (set_st) st_period <= period_st;
    if (rst) begin
        hb_period <= HB_PERIOD0;
        st_period <= ST_PERIOD0;
    end
end

// pending work per slot: step (count up, or down for a timer), load (timer: its period;
// counter: zero) and zero (reset)
reg  [7:0]  p_step = 8'd0, p_load = 8'd0, p_zero = 8'hff;
reg         link_z = 1'b1;            // link slot is zero: no frame for 2 heartbeat periods
reg         half = 1'b0;              // link counts every second millisecond
reg  [2:0]  sv = 3'd0;                // slot being serviced this clock
wire [2:0]  sv_n = sv + 3'd1;         // slot decided this clock, serviced next clock

// What to do with a slot is decided a clock ahead and registered, so the write data is
// one LUT per bit (zero / period / adder) rather than a function of the slot number.
// An event that arrives after the decision stays pending for the next visit.
reg         d_zero = 1'b0, d_load = 1'b0, d_step = 1'b0, d_dec = 1'b0, d_st = 1'b0;
wire        n_timer = (sv_n >= S_HB);
wire        n_at0   = (sv_n == S_HB) ? hb_due : (sv_n == S_ST) ? st_due : link_z;
always @(posedge clk) begin
    d_zero <= p_zero[sv_n] || (p_load[sv_n] && !n_timer);   // a counter "load" is a clear
    d_load <= p_load[sv_n] && n_timer;
    d_step <= p_step[sv_n] && !(n_timer && n_at0);            // a timer at zero stays there
    d_dec  <= n_timer;
    d_st   <= (sv_n == S_ST);
end

wire [31:0] cur     = bank[sv];
wire [31:0] stepped = cur + (d_dec ? 32'hffffffff : 32'd1);
wire [31:0] period  = d_st ? st_period : hb_period;
wire [31:0] nxt     = d_zero ? 32'd0 : d_load ? period : stepped;
wire        we      = d_zero || d_load || d_step;
// zero after the write, without a 32-bit compare behind the adder: a step lands on zero from 1
// (down) or 0xFFFFFFFF (up), a load is zero only for a zero period (callers never pass one)
wire        nxt_z   = d_zero || (d_load ? (period == 32'd0) : (cur == (d_dec ? 32'd1 : 32'hffffffff)));

always @(posedge clk) if (we) bank[sv] <= nxt;

// events of this clock, as bit vectors over the slots
wire [7:0] ev_step = ({7'd0, tick} << S_UPTIME) | ({7'd0, inc_good} << S_GOOD) | ({7'd0, inc_bad} << S_BAD) |
                     ({7'd0, inc_over} << S_OVER) | ({7'd0, inc_served} << S_SERVED) |
                     ({7'd0, tick} << S_HB) | ({7'd0, tick} << S_ST) | ({7'd0, tick && half} << S_LINK);
wire [7:0] ev_load = ({7'd0, clr_served} << S_SERVED) | ({7'd0, reload_hb} << S_HB) |
                     ({7'd0, reload_st} << S_ST) | ({7'd0, reload_link} << S_LINK);
wire [7:0] sv_bit  = 8'd1 << sv;

reg [31:0] bad_n = 32'd0, over_n = 32'd0;
always @(posedge clk) begin
    sv <= sv_n;
    if (tick) half <= ~half;
    // clear only what was done (a write clears all three: a load or zero supersedes a step)
    p_step <= (p_step & ~(we ? sv_bit : 8'd0)) | ev_step;
    p_load <= (p_load & ~((d_zero || d_load) ? sv_bit : 8'd0)) | ev_load;
    p_zero <= p_zero & ~(d_zero ? sv_bit : 8'd0);
    if (we) begin
        case (sv)
        S_HB:   hb_due <= nxt_z;
        S_ST:   st_due <= nxt_z;
        S_LINK: link_z <= nxt_z;
        S_GOOD: good_frames <= nxt;
        S_BAD:  bad_n <= nxt;
        S_OVER: over_n <= nxt;
        default: ;
        endcase
    end
    // a reload makes the timer non-zero (periods are never 0): not due from now on
    if (reload_hb) hb_due <= 1'b0;
    if (reload_st) st_due <= 1'b0;
    if (reload_link) link_z <= 1'b0;
    if (rst) begin
        p_step <= 8'd0;
        p_load <= 8'd0;
        p_zero <= 8'hff;
        link_z <= 1'b1;
        hb_due <= 1'b0;
        st_due <= 1'b0;
        good_frames <= 32'd0;
        bad_n <= 32'd0;
        over_n <= 32'd0;
    end
end

assign rd_val     = bank[rd_sel];
assign link_up    = !link_z;
assign bad_frames = bad_n + over_n;

endmodule

`resetall
