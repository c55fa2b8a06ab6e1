// edge_bridge: Verilator harness for edge_core. The core's UART pins are
// bridged, bit by bit at CPB clocks per bit (8N1), to a pseudo-terminal, so
// the host opens the simulated FPGA exactly like /dev/rfcomm0 or a USB UART.
//
//   Vedge_core [+maxcycles=N]
//   stderr: "PTY /dev/pts/N" once ready, then one line per event:
//     EV rxf <first-start-bit-cycle> <delimiter-stop-bit-end-cycle> <bytes>   host -> FPGA frame
//     EV txf <first-start-bit-cycle> <delimiter-stop-bit-end-cycle> <bytes>   FPGA -> host frame
//     EV registered <cycle> / EV unregistered <cycle>
// Protocol bytes never touch stdout or stderr (hdl-facts.md §2: $finish and
// $display print to stdout).
//
// Simulated time only advances while this loop runs: when the line is idle
// the loop sleeps 1 ms per IDLE_BURST clocks, so on-chip timers keep moving
// without spinning a shared CPU. The idle rate also bounds how fast the
// device's timeouts (HELLO retry) run against the host's wall-clock latency:
// build with a HELLO_RETRY_MS worth ~1 M cycles or more, or a loaded host
// answers a HELLO after the device has already given up on it.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <termios.h>
#include <unistd.h>
#include <vector>

#include "Vedge_core.h"
#include "verilated.h"

#ifndef CPB
#define CPB 16
#endif

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int) { stop_requested = 1; }

static const unsigned long IDLE_BURST = 2000;    // clocks simulated per 1 ms sleep while idle (~2 M cycles/s)

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    unsigned long long max_cycles = 0;
    const char* arg = Verilated::commandArgsPlusMatch("maxcycles=");
    if (arg && *arg) max_cycles = strtoull(arg + strlen("+maxcycles="), nullptr, 10);

    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        perror("edge_bridge: posix_openpt");
        return 2;
    }
    const char* slave_name = ptsname(master);
    // keep a slave fd open: the line stays up while the host closes and reopens it
    int slave = open(slave_name, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        perror("edge_bridge: open slave");
        return 2;
    }
    struct termios tio;
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
    fprintf(stderr, "PTY %s\n", slave_name);
    fprintf(stderr, "CPB %d\n", CPB);
    fflush(stderr);

    Vedge_core* dut = new Vedge_core;
    unsigned long long cycle = 0;
    dut->clk = 0;
    dut->rst = 1;
    dut->rxd = 1;

    std::deque<unsigned char> to_dut;      // bytes from the host, not yet on the line
    std::vector<unsigned char> to_host;    // bytes from the FPGA, not yet written to the pty

    // host -> FPGA driver
    int drv_bit = -1;        // -1 idle, 0 start, 1..8 data, 9 stop
    unsigned drv_cnt = 0;
    unsigned char drv_byte = 0;
    unsigned long long rxf_start = 0;
    unsigned rxf_bytes = 0;
    bool rxf_open = false;

    // FPGA -> host monitor
    int mon_bit = -1;
    unsigned mon_cnt = 0;
    unsigned char mon_byte = 0;
    unsigned long long txf_start = 0, mon_start = 0;
    unsigned txf_bytes = 0;
    bool txf_open = false;

    bool was_registered = false;
    unsigned long idle_clocks = 0;

    auto flush_host = [&]() {
        while (!to_host.empty()) {
            ssize_t n = write(master, to_host.data(), to_host.size());
            if (n > 0) {
                to_host.erase(to_host.begin(), to_host.begin() + n);
            } else {
                break;   // EAGAIN (host busy) or EIO (no reader): keep the bytes, retry later
            }
        }
    };

    while (!stop_requested && !Verilated::gotFinish()) {
        // poll the pty every 256 clocks; sleep only when the line is quiet
        if ((cycle & 255) == 0) {
            bool quiet = to_dut.empty() && drv_bit < 0 && mon_bit < 0 && dut->txd && !dut->busy;
            int timeout = (quiet && idle_clocks >= IDLE_BURST) ? 1 : 0;
            if (timeout) idle_clocks = 0;
            struct pollfd pfd = {master, POLLIN, 0};
            if (poll(&pfd, 1, timeout) > 0 && (pfd.revents & POLLIN)) {
                unsigned char buf[4096];
                ssize_t n = read(master, buf, sizeof buf);
                for (ssize_t i = 0; i < n; i++) to_dut.push_back(buf[i]);
            }
            flush_host();
            if (quiet) idle_clocks += 256;
        }

        // driver: one bit every CPB clocks
        if (drv_bit < 0 && !to_dut.empty() && cycle > 64) {
            drv_byte = to_dut.front();
            to_dut.pop_front();
            drv_bit = 0;
            drv_cnt = 0;
            if (!rxf_open) { rxf_open = true; rxf_start = cycle; rxf_bytes = 0; }
        }
        if (drv_bit >= 0) {
            dut->rxd = drv_bit == 0 ? 0 : drv_bit == 9 ? 1 : (drv_byte >> (drv_bit - 1)) & 1;
            if (++drv_cnt == CPB) {
                drv_cnt = 0;
                if (++drv_bit == 10) {
                    drv_bit = -1;
                    rxf_bytes++;
                    if (drv_byte == 0 && rxf_open) {
                        fprintf(stderr, "EV rxf %llu %llu %u\n", rxf_start, cycle, rxf_bytes);
                        rxf_open = false;
                    }
                }
            }
        } else {
            dut->rxd = 1;
        }

        dut->clk = 0;
        dut->eval();
        dut->clk = 1;
        dut->eval();
        cycle++;
        if (cycle == 16) dut->rst = 0;

        // monitor: sample mid-bit
        if (mon_bit < 0) {
            if (!dut->txd) { mon_bit = 0; mon_cnt = 0; mon_start = cycle; }
        } else if (++mon_cnt == (mon_bit == 0 ? CPB / 2 : CPB)) {
            mon_cnt = 0;
            if (mon_bit == 0) {
                if (dut->txd) mon_bit = -1; else mon_bit = 1;
            } else if (mon_bit <= 8) {
                mon_byte = (mon_byte >> 1) | (dut->txd ? 0x80 : 0);
                mon_bit++;
            } else {
                // stop bit sampled: the byte is complete half a bit later; report the frame end there
                mon_bit = -1;
                to_host.push_back(mon_byte);
                if (!txf_open) { txf_open = true; txf_start = mon_start; txf_bytes = 0; }
                txf_bytes++;
                if (mon_byte == 0) {
                    fprintf(stderr, "EV txf %llu %llu %u\n", txf_start, cycle + CPB / 2, txf_bytes);
                    txf_open = false;
                }
                flush_host();
            }
        }

        if (dut->registered != was_registered) {
            was_registered = dut->registered;
            fprintf(stderr, "EV %s %llu\n", was_registered ? "registered" : "unregistered", cycle);
        }
        if (max_cycles && cycle >= max_cycles) break;
    }
    flush_host();
    fprintf(stderr, "END %llu\n", cycle);
    dut->final();
    delete dut;
    close(slave);
    close(master);
    return 0;
}
