// A scripted HC-05 in AT mode, for tests: socat puts it behind a kernel pty,
//   socat pty,raw,echo=0,link=/tmp/x/ttyUSB0 EXEC:"node hc05-responder.mjs --firmware 2.0-20100601"
// so the CLI opens a real tty with serialport, exactly as it opens a USB-UART adapter.
//
// Behaviour follows the HC-03/05 AT command set: commands end in \r\n; replies are OK,
// +KEY:value then OK, or ERROR:(n) with n in hex. Options:
//   --firmware V   reply to AT+VERSION? (default 2.0-20100601). v3.x wants AT+PSWD="nnnn":
//                  a bare PIN is refused with ERROR:(0) here (the code v3 firmware returns for a
//                  bare PIN is not documented; users report the quotes are required).
//   --mode data    behave like a module in data mode: swallow everything, never answer.
//   --pskey-fail   every write command fails with ERROR:(2) (PSKEY write error: worn flash).
//   --drop-name    accept AT+NAME= but keep the old name (a module that does not persist it).
//   --log FILE     append every command received, one per line.
import { appendFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const has = (name) => argv.includes(name);
const firmware = opt('--firmware', '2.0-20100601');
const v3 = Number(firmware.split('.')[0]) >= 3;
const mode = opt('--mode', 'at');
const log = opt('--log');
const state = { name: 'HC-05', pswd: '1234', uart: '9600,0,0', role: '0', addr: '98d3:31:f51234' };
const BAUDS = new Set(['4800', '9600', '19200', '38400', '57600', '115200', '230400', '460800', '921600', '1382400']);

const out = (...lines) => process.stdout.write(lines.map((l) => l + '\r\n').join(''));
const err = (hex) => out(`ERROR:(${hex})`);

function handle(cmd) {
  if (log) appendFileSync(log, cmd + '\n');
  if (mode === 'data') return; // transparent mode: bytes go out over the air, nothing comes back
  const write = (fn) => (has('--pskey-fail') ? err('2') : fn());
  let m;
  if (cmd === 'AT') return out('OK');
  if (cmd === 'AT+VERSION?') return out(`+VERSION:${firmware}`, 'OK');
  if (cmd === 'AT+ADDR?') return out(`+ADDR:${state.addr}`, 'OK');
  if (cmd === 'AT+NAME?') return out(`+NAME:${state.name}`, 'OK');
  if (cmd === 'AT+PSWD?') return out(v3 ? `+PIN:"${state.pswd}"` : `+PSWD:${state.pswd}`, 'OK');
  if (cmd === 'AT+UART?') return out(`+UART:${state.uart}`, 'OK');
  if (cmd === 'AT+ROLE?') return out(`+ROLE:${state.role}`, 'OK');
  if ((m = /^AT\+NAME=(.*)$/.exec(cmd))) {
    if (m[1].length === 0) return err('4');
    if (m[1].length > 32) return err('3');
    return write(() => {
      if (!has('--drop-name')) state.name = m[1];
      out('OK');
    });
  }
  if ((m = /^AT\+PSWD=(.*)$/.exec(cmd))) {
    const quoted = /^"(.*)"$/.exec(m[1]);
    if (v3 && !quoted) return err('0');
    if (!v3 && quoted) return err('0');
    const pin = quoted ? quoted[1] : m[1];
    if (pin.length === 0) return err('F');
    if (pin.length > 16) return err('10');
    return write(() => {
      state.pswd = pin;
      out('OK');
    });
  }
  if ((m = /^AT\+UART=(\d+),(\d+),(\d+)$/.exec(cmd))) {
    if (!BAUDS.has(m[1])) return err('12');
    if (!['0', '1'].includes(m[2])) return err('13');
    if (!['0', '1', '2'].includes(m[3])) return err('14');
    return write(() => {
      state.uart = `${m[1]},${m[2]},${m[3]}`;
      out('OK');
    });
  }
  if ((m = /^AT\+ROLE=(\d+)$/.exec(cmd))) {
    if (!['0', '1', '2'].includes(m[1])) return err('11');
    return write(() => {
      state.role = m[1];
      out('OK');
    });
  }
  if (cmd === 'AT+RESET' || cmd === 'AT+ORGL') return out('OK');
  return err('0');
}

let buf = '';
process.stdin.setEncoding('latin1');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\r\n')) >= 0) {
    const cmd = buf.slice(0, i).trim();
    buf = buf.slice(i + 2);
    if (cmd) handle(cmd);
  }
});
