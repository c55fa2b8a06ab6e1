// tb_edge_counters: the time-multiplexed counter/timer bank against plain
// registers (what edge_core had before: one incrementer per counter, timers
// compared with their period). Random events, a millisecond tick every TICK
// clocks; checked continuously:
//   - every counter read through rd_sel equals the reference count, and
//     good_frames / bad_frames equal good and bad + oversize;
//   - the heartbeat and STATE timers become due exactly `period` ticks after a
//     reload (never earlier, never later), for periods set by set_hb / set_st;
//   - link_up holds for 2 heartbeat periods (+-1 tick) after reload_link;
//   - a reset clears everything again.
`timescale 1ns / 1ps
`default_nettype none

module tb_edge_counters;

localparam integer TICK = 40;        // clocks per "millisecond" (edge_core needs >= 16)

reg clk = 1'b0;
reg rst = 1'b1;
always #5 clk = ~clk;

reg         tick = 1'b0;
reg         inc_good = 1'b0, inc_bad = 1'b0, inc_over = 1'b0, inc_served = 1'b0, clr_served = 1'b0;
reg         set_hb = 1'b0, set_st = 1'b0, reload_hb = 1'b0, reload_st = 1'b0, reload_link = 1'b0;
reg  [31:0] period_hb = 32'd0, period_st = 32'd0;
wire        hb_due, st_due, link_up;
reg  [2:0]  rd_sel = 3'd0;
wire [31:0] rd_val, good_frames, bad_frames;

edge_counters #(.HB_PERIOD0(32'd7), .ST_PERIOD0(32'd5)) dut (
    .clk(clk), .rst(rst), .tick(tick),
    .inc_good(inc_good), .inc_bad(inc_bad), .inc_over(inc_over), .inc_served(inc_served), .clr_served(clr_served),
    .set_hb(set_hb), .set_st(set_st), .period_hb(period_hb), .period_st(period_st),
    .reload_hb(reload_hb), .reload_st(reload_st), .reload_link(reload_link),
    .hb_due(hb_due), .st_due(st_due), .link_up(link_up),
    .rd_sel(rd_sel), .rd_val(rd_val), .good_frames(good_frames), .bad_frames(bad_frames));

// reference
reg [31:0] r_up = 0, r_good = 0, r_bad = 0, r_over = 0, r_served = 0;
reg [31:0] r_hbp = 7, r_stp = 5;
integer    hb_left = -1, st_left = -1, link_left = 0;   // ticks until due; -1: not running
integer    errors = 0, checks = 0, hb_fired = 0, st_fired = 0, link_drops = 0;
integer    cyc = 0;

task fail(input [8*48-1:0] what);
    begin
        errors = errors + 1;
        if (errors < 10) $display("FAIL tb_edge_counters: %0s at cycle %0d", what, cyc);
    end
endtask

// the read port, slot by slot (edge_counters S_*: 0 uptime, 1 good, 2 bad, 3 over, 4 served)
reg [31:0] expect_val;
always @* begin
    case (rd_sel)
    3'd0: expect_val = r_up;
    3'd1: expect_val = r_good;
    3'd2: expect_val = r_bad;
    3'd3: expect_val = r_over;
    default: expect_val = r_served;
    endcase
end

reg        link_was = 1'b0;
integer    since_link = 0;
integer    k;
reg [31:0] rnd;

initial begin
    repeat (4) @(posedge clk);
    rst <= 1'b0;
    repeat (12) @(posedge clk);      // the bank clears itself, one slot per clock
    for (cyc = 0; cyc < 60000; cyc = cyc + 1) begin
        @(negedge clk);
        // drop last clock's strobes
        {tick, inc_good, inc_bad, inc_over, inc_served, clr_served} = 6'd0;
        {set_hb, set_st, reload_hb, reload_st, reload_link} = 5'd0;
        rnd = $random;
        // events at most once per 20 clocks each (edge_core's are far sparser)
        if (cyc % TICK == 0) tick = 1'b1;
        if (cyc % 20 == 3) begin
            case (rnd[3:0])
            4'd0, 4'd1, 4'd2: inc_good = 1'b1;
            4'd3: inc_bad = 1'b1;
            4'd4: inc_over = 1'b1;
            4'd5: begin inc_bad = 1'b1; inc_over = 1'b1; end
            4'd6, 4'd7: inc_served = 1'b1;
            4'd8: clr_served = 1'b1;
            default: ;
            endcase
        end
        if (cyc % 20 == 11) begin
            case (rnd[7:4])
            4'd0: begin set_hb = 1'b1; period_hb = 32'd3 + rnd[10:8]; end
            4'd1: begin set_st = 1'b1; period_st = 32'd2 + rnd[10:8]; end
            4'd2: reload_link = 1'b1;
            default: ;
            endcase
        end
        // reload a timer after it fired and was checked (what edge_core does when it sends
        // HEARTBEAT / STATE), well before the next tick: a tick that races a reload is dropped
        // by design (the reload wins, as the register reset did)
        if (hb_left <= 0 && (cyc % TICK) == 25) reload_hb = 1'b1;
        if (st_left <= 0 && (cyc % TICK) == 27) reload_st = 1'b1;
        rd_sel = rnd[14:12] % 5;
        // reference update at the same clock edge as the DUT
        @(posedge clk);
        if (tick) begin
            r_up = r_up + 1;
            if (hb_left > 0) hb_left = hb_left - 1;
            if (st_left > 0) st_left = st_left - 1;
            if (link_left > 0) link_left = link_left - 1;
        end
        if (inc_good) r_good = r_good + 1;
        if (inc_bad) r_bad = r_bad + 1;
        if (inc_over) r_over = r_over + 1;
        if (inc_served) r_served = r_served + 1;
        if (clr_served) r_served = 0;
        if (set_hb) r_hbp = period_hb;
        if (set_st) r_stp = period_st;
        if (reload_hb) hb_left = r_hbp;
        if (reload_st) st_left = r_stp;
        if (reload_link) begin link_left = 2 * r_hbp; since_link = 0; end
    end
    $display("tb_edge_counters: %0d checks, %0d heartbeat and %0d STATE expiries, %0d link drops",
             checks, hb_fired, st_fired, link_drops);
    if (hb_fired < 20 || st_fired < 20 || link_drops < 3) fail("too few timer expiries to mean anything");
    // reset clears everything
    @(negedge clk);
    {tick, inc_good, inc_bad, inc_over, inc_served, clr_served} = 6'd0;
    {set_hb, set_st, reload_hb, reload_st, reload_link} = 5'd0;
    rst <= 1'b1; @(posedge clk); rst <= 1'b0;
    repeat (12) @(posedge clk);
    for (k = 0; k < 5; k = k + 1) begin
        rd_sel = k; #1;
        if (rd_val !== 32'd0) fail("counter not cleared by reset");
    end
    if (good_frames !== 32'd0 || bad_frames !== 32'd0 || link_up !== 1'b0) fail("outputs not cleared by reset");
    if (errors == 0) $display("PASS tb_edge_counters: counters and timers match plain registers");
    else $fatal(1, "FAIL tb_edge_counters: %0d errors", errors);
    $finish;
end

// checks, a few clocks after each event has had time to be serviced (every slot is
// visited every 8 clocks)
always @(posedge clk) if (!rst && cyc > 0 && (cyc % 20) == 14) begin
    #1;
    checks = checks + 1;
    if (rd_val !== expect_val) fail("counter read differs from the reference");
    if (good_frames !== r_good) fail("good_frames");
    if (bad_frames !== r_bad + r_over) fail("bad_frames");
end
// timers: due exactly when the reference reaches 0 (checked away from tick and reload edges)
always @(posedge clk) if (!rst && cyc > 0 && (cyc % TICK) == 20) begin
    #1;
    if (hb_left >= 0 && hb_due !== (hb_left == 0)) fail("heartbeat due at the wrong tick");
    if (st_left >= 0 && st_due !== (st_left == 0)) fail("STATE due at the wrong tick");
    if (hb_left == 0 && hb_due) hb_fired = hb_fired + 1;
    if (st_left == 0 && st_due) st_fired = st_fired + 1;
    // link: the LED may lag the reference by one tick (it counts every second millisecond)
    if (link_left > 1 && !link_up) fail("link dropped early");
    if (link_left == 0 && link_was && link_up && since_link > 2 * r_hbp + 2) fail("link held too long");
    if (link_was && !link_up) link_drops = link_drops + 1;
    link_was = link_up;
    since_link = since_link + 1;
end

endmodule
