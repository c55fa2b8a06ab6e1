# Vivado non-project batch build of basys3_top (synthesis, implementation, bitstream).
#   cd hdl/basys3 && make bit [BAUD=115200]     (or:)
#   vivado -mode batch -nojournal -nolog -notrace -source vivado/build.tcl -tclargs [BAUD]
# Outputs in build/: basys3_top.bit (program with `epara flash` or
# `openFPGALoader -b basys3 [-f] build/basys3_top.bit`), .bin, and the reports.
# The device key must be in rtl/epara_key.vh (never committed); set
# EPARA_ALLOW_TEST_KEY=1 to build a bench-only bitstream with the simulation test key.
set part  xc7a35tcpg236-1
set top   basys3_top
set here  [file dirname [file normalize [info script]]]
set root  [file normalize "$here/.."]
set out   "$root/build"
set baud  [expr {[llength $argv] > 0 ? [lindex $argv 0] : 9600}]
file mkdir $out

set defines {}
if {[file exists "$root/rtl/epara_key.vh"]} {
    lappend defines EPARA_KEY_VH
} elseif {![info exists ::env(EPARA_ALLOW_TEST_KEY)]} {
    puts "ERROR: rtl/epara_key.vh is missing. Generate it for this device (README.md), or set EPARA_ALLOW_TEST_KEY=1 for a bench-only build."
    exit 1
} else {
    puts "WARNING: building with the SIMULATION TEST KEY: do not deploy this bitstream."
}

read_verilog [glob "$root/rtl/*.v"]
read_xdc "$root/constraints/basys3.xdc"

synth_design -top $top -part $part -include_dirs [list "$root/rtl"] -verilog_define $defines -generic "BAUD=$baud"
write_checkpoint -force "$out/post_synth.dcp"
report_utilization -file "$out/post_synth_util.rpt"

opt_design
place_design
phys_opt_design
route_design
write_checkpoint -force "$out/post_route.dcp"
report_timing_summary -file "$out/post_route_timing.rpt"
report_utilization    -file "$out/post_route_util.rpt"
report_drc            -file "$out/post_route_drc.rpt"

# refuse to write a bitstream that does not meet timing
if {[get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]] < 0} {
    puts "ERROR: timing not met (see build/post_route_timing.rpt)"
    exit 1
}
write_bitstream -force -bin_file "$out/$top.bit"
puts "bitstream: $out/$top.bit"
