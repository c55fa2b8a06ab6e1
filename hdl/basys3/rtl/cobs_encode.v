// cobs_encode: frame bytes in (tlast on the last one), COBS wire bytes out
// followed by the 0x00 delimiter (tlast on the delimiter). protocol/SPEC.md §3.
//
// A block of up to 254 non-zero bytes is collected, then sent behind its
// code byte; input stalls while a block is sent, which costs nothing next to
// the UART. A run of exactly 254 non-zero bytes is code 0xFF with no implied
// zero; a frame ending in 0x00 ends with an empty block (code 0x01).
`resetall
`timescale 1ns / 1ps
`default_nettype none

module cobs_encode
(
    input  wire       clk,
    input  wire       rst,

    input  wire [7:0] s_axis_tdata,
    input  wire       s_axis_tvalid,
    output wire       s_axis_tready,
    input  wire       s_axis_tlast,

    output wire [7:0] m_axis_tdata,
    output wire       m_axis_tvalid,
    input  wire       m_axis_tready,
    output wire       m_axis_tlast
);

localparam [1:0] S_FILL = 2'd0, S_CODE = 2'd1, S_DATA = 2'd2, S_TAIL = 2'd3;

reg [7:0] idx_reg     = 8'd0;   // next byte of the block to send
// Block RAM with a registered read (mem_q): a byte is fetched one clock before it is
// sent, which costs a clock per byte (nothing next to the UART) and saves the 48
// LUTs of distributed RAM plus its read multiplexer.
(* ram_style = "block" *)
reg [7:0] buf_mem [0:253];
reg [7:0] mem_q = 8'd0;
reg       fetched = 1'b0;           // mem_q holds buf_mem[idx_reg]
always @(posedge clk) mem_q <= buf_mem[idx_reg];
reg [1:0] state_reg   = S_FILL;
reg [7:0] n_reg       = 8'd0;   // bytes in the block
reg       last_reg    = 1'b0;   // the block ends the frame
reg       empty_reg   = 1'b0;   // after the block, an empty block (frame ended in 0x00)
reg [7:0] out_data_reg  = 8'd0;
reg       out_valid_reg = 1'b0;
reg       out_last_reg  = 1'b0;

wire out_free = !out_valid_reg || m_axis_tready;

assign s_axis_tready = (state_reg == S_FILL);
assign m_axis_tdata  = out_data_reg;
assign m_axis_tvalid = out_valid_reg;
assign m_axis_tlast  = out_last_reg;

always @(posedge clk) begin
    if (m_axis_tready) out_valid_reg <= 1'b0;

    case (state_reg)
    S_FILL: if (s_axis_tvalid) begin
        if (s_axis_tdata == 8'd0) begin
            state_reg <= S_CODE;
            last_reg  <= s_axis_tlast;
            empty_reg <= s_axis_tlast;
        end else begin
            buf_mem[n_reg] <= s_axis_tdata;
            n_reg <= n_reg + 8'd1;
            if (n_reg == 8'd253 || s_axis_tlast) begin
                state_reg <= S_CODE;
                last_reg  <= s_axis_tlast;
                empty_reg <= 1'b0;
            end
        end
    end
    S_CODE: if (out_free) begin
        out_data_reg  <= n_reg + 8'd1;
        out_valid_reg <= 1'b1;
        out_last_reg  <= 1'b0;
        idx_reg       <= 8'd0;
        fetched       <= 1'b0;
        state_reg     <= (n_reg != 8'd0) ? S_DATA : S_TAIL;
    end
    S_DATA: if (!fetched) begin
        fetched <= 1'b1;            // mem_q is loading buf_mem[idx_reg]
    end else if (out_free) begin
        out_data_reg  <= mem_q;
        out_valid_reg <= 1'b1;
        out_last_reg  <= 1'b0;
        idx_reg       <= idx_reg + 8'd1;
        fetched       <= 1'b0;
        if (idx_reg + 8'd1 == n_reg) state_reg <= S_TAIL;
    end
    default: begin // S_TAIL: what follows the block
        if (!last_reg) begin
            state_reg <= S_FILL;
            n_reg <= 8'd0;
        end else if (empty_reg) begin
            // the frame ended in 0x00: one more (empty) block, then the delimiter
            n_reg     <= 8'd0;
            empty_reg <= 1'b0;
            state_reg <= S_CODE;
        end else if (out_free) begin
            out_data_reg  <= 8'd0;
            out_valid_reg <= 1'b1;
            out_last_reg  <= 1'b1;
            n_reg         <= 8'd0;
            last_reg      <= 1'b0;
            state_reg     <= S_FILL;
        end
    end
    endcase

    if (rst) begin
        state_reg     <= S_FILL;
        n_reg         <= 8'd0;
        last_reg      <= 1'b0;
        empty_reg     <= 1'b0;
        out_valid_reg <= 1'b0;
    end
end

endmodule

`resetall
