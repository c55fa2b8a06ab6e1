// cobs_decode: COBS wire bytes in (0x00 = frame delimiter), decoded frame
// bytes out with tlast on the last byte of each frame (protocol/SPEC.md §3).
//
// The last decoded byte is held back until the delimiter arrives, because
// only then is it known to be the last one; tuser on that beat says the
// frame is bad (a code byte pointed past the end of the piece, or the frame
// grew past MAX_LEN) and must be discarded by the consumer. Empty pieces
// (two delimiters in a row) produce nothing. After an error everything up to
// the next delimiter is dropped without being buffered: that is the resync.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module cobs_decode #
(
    parameter integer MAX_LEN = 512   // largest decoded frame accepted (max_frame)
)
(
    input  wire       clk,
    input  wire       rst,

    /* COBS wire bytes */
    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    output wire       s_axis_tready,

    /* decoded frame bytes */
    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    input  wire       m_axis_tready,
    output wire       m_axis_tlast,
    output wire       m_axis_tuser,   // with tlast: discard this frame

    /* Status: one-clock strobes, one per dropped piece */
    output wire       bad_frame,      // COBS structure error
    output wire       oversize_frame  // more than MAX_LEN decoded bytes
);

localparam integer LW = $clog2(MAX_LEN + 1);
localparam [31:0]  MAX32 = MAX_LEN;
localparam [LW-1:0] MAXL = MAX32[LW-1:0];

reg [7:0]    out_data_reg  = 8'd0;
reg          out_valid_reg = 1'b0;
reg          out_last_reg  = 1'b0;
reg          out_user_reg  = 1'b0;

reg [7:0]    hold_reg      = 8'd0;   // last decoded byte, not yet known to be last
reg          hold_valid    = 1'b0;
reg          in_frame      = 1'b0;   // a code byte has been seen since the delimiter
reg [7:0]    remain_reg    = 8'd0;   // data bytes left in the current block
reg          code_ff_reg   = 1'b0;   // current block is 0xFF: no implied zero after it
reg          drop_reg      = 1'b0;   // oversize: discard until the delimiter
reg [LW-1:0] count_reg     = {LW{1'b0}};
reg          bad_reg       = 1'b0;
reg          over_reg      = 1'b0;

assign s_axis_tready  = !out_valid_reg || m_axis_tready;
assign m_axis_tdata   = out_data_reg;
assign m_axis_tvalid  = out_valid_reg;
assign m_axis_tlast   = out_last_reg;
assign m_axis_tuser   = out_user_reg;
assign bad_frame      = bad_reg;
assign oversize_frame = over_reg;

wire       in_fire   = s_axis_tvalid && s_axis_tready;
wire [7:0] b         = s_axis_tdata;
// a decoded byte produced by this input, if any
wire       is_data   = in_frame && !drop_reg && b != 8'd0 && remain_reg != 8'd0;
wire       is_zero   = in_frame && !drop_reg && b != 8'd0 && remain_reg == 8'd0 && !code_ff_reg;
wire       produce   = is_data || is_zero;
wire [7:0] produced  = is_data ? b : 8'd0;
wire       overflow  = produce && (count_reg == MAXL);

always @(posedge clk) begin
    bad_reg  <= 1'b0;
    over_reg <= 1'b0;
    if (m_axis_tready) out_valid_reg <= 1'b0;

    if (in_fire) begin
        if (b == 8'd0) begin
            // delimiter: close the frame
            if (hold_valid) begin
                out_data_reg  <= hold_reg;
                out_valid_reg <= 1'b1;
                out_last_reg  <= 1'b1;
                out_user_reg  <= drop_reg || remain_reg != 8'd0;
            end
            if (in_frame && !drop_reg && remain_reg != 8'd0) bad_reg <= 1'b1;
            in_frame   <= 1'b0;
            hold_valid <= 1'b0;
            drop_reg   <= 1'b0;
            remain_reg <= 8'd0;
            count_reg  <= {LW{1'b0}};
        end else if (!in_frame) begin
            // first code byte of a piece
            in_frame    <= 1'b1;
            remain_reg  <= b - 8'd1;
            code_ff_reg <= (b == 8'hff);
        end else if (!drop_reg) begin
            if (remain_reg == 8'd0) begin
                // a new code byte
                remain_reg  <= b - 8'd1;
                code_ff_reg <= (b == 8'hff);
            end else begin
                remain_reg <= remain_reg - 8'd1;
            end
            if (overflow) begin
                // flush what is held as a discarded frame, then drop the rest
                drop_reg   <= 1'b1;
                over_reg   <= 1'b1;
                hold_valid <= 1'b0;
                if (hold_valid) begin
                    out_data_reg  <= hold_reg;
                    out_valid_reg <= 1'b1;
                    out_last_reg  <= 1'b1;
                    out_user_reg  <= 1'b1;
                end
            end else if (produce) begin
                if (hold_valid) begin
                    out_data_reg  <= hold_reg;
                    out_valid_reg <= 1'b1;
                    out_last_reg  <= 1'b0;
                    out_user_reg  <= 1'b0;
                end
                hold_reg   <= produced;
                hold_valid <= 1'b1;
                count_reg  <= count_reg + 1'b1;
            end
        end
    end

    if (rst) begin
        out_valid_reg <= 1'b0;
        hold_valid    <= 1'b0;
        in_frame      <= 1'b0;
        remain_reg    <= 8'd0;
        code_ff_reg   <= 1'b0;
        drop_reg      <= 1'b0;
        count_reg     <= {LW{1'b0}};
        bad_reg       <= 1'b0;
        over_reg      <= 1'b0;
    end
end

`ifdef FORMAL
// Property: the decoder never emits a byte past a delimiter. Once a
// delimiter has been accepted, and until the next non-zero byte is, the
// only thing that may be on the output is the closing beat of the previous
// frame (tlast set), and nothing is held back for later.
reg f_past_valid = 1'b0;
reg f_closed = 1'b1;
always @(posedge clk) begin
    f_past_valid <= 1'b1;
    if (rst) f_closed <= 1'b1;
    else if (in_fire) f_closed <= (b == 8'd0);
end
always @(posedge clk) begin
    if (f_past_valid && !$past(rst)) begin
        if (f_closed) assert(!hold_valid);
        if (f_closed && m_axis_tvalid) assert(m_axis_tlast);
        if (!in_frame) assert(!hold_valid);
        assert(count_reg <= MAXL);
    end
end
`endif

endmodule

`resetall
