#!/bin/sh
# Bounded model checks with yosys-smtbmc + z3 (Debian packages; SymbiYosys is not packaged).
# The properties live in the RTL under `ifdef FORMAL`. Parameters are shrunk so
# that the bound covers whole frames: uart_tx at 2 clocks/bit (a frame is 20
# clocks; 30 steps), cobs_decode with MAX_LEN 3. --unroll: without it z3 4.8.12
# stalls on the cobs_decode problem at step 0; unrolled it solves in under a second.
# usage: formal/run.sh OUTDIR
set -e
out=${1:-build}
mkdir -p "$out"
cd "$(dirname "$0")/.."

yosys -q -p "read_verilog -formal rtl/uart_tx.v; chparam -set CLK_HZ 2 -set BAUD 1 uart_tx; prep -top uart_tx; async2sync; dffunmap; write_smt2 -wires $out/uart_tx.smt2"
echo "uart_tx: frame is exactly ten bit periods (BMC, 30 steps)"
yosys-smtbmc -s z3 --unroll --noprogress -t 30 "$out/uart_tx.smt2"

yosys -q -p "read_verilog -formal rtl/cobs_decode.v; chparam -set MAX_LEN 3 cobs_decode; prep -top cobs_decode; async2sync; dffunmap; write_smt2 -wires $out/cobs_decode.smt2"
echo "cobs_decode: never emits a byte past a delimiter (BMC, ${COBS_DEPTH:-20} steps)"
yosys-smtbmc -s z3 --unroll --noprogress -t "${COBS_DEPTH:-20}" "$out/cobs_decode.smt2"
