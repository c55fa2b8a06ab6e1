import { stripAnsi, type Output } from '../output.js';

/**
 * A one-line live status at the bottom of a terminal: event lines scroll above it. On a
 * non-terminal (a log file, systemd) there is no status line, just the event lines.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly out: Output,
    private readonly render: () => string,
    private readonly periodMs = 1000,
  ) {}

  get live(): boolean {
    return this.out.stderrIsTTY && !this.out.quiet && !this.out.json;
  }

  start(): void {
    if (!this.live) return;
    this.draw();
    this.timer = setInterval(() => this.draw(), this.periodMs);
    this.timer.unref();
  }

  log(line: string): void {
    if (this.out.quiet) return;
    if (this.shown) this.out.stderr.write('\r\u001b[2K');
    this.out.stderr.write(line + '\n');
    if (this.live && this.timer) this.draw();
  }

  private draw(): void {
    // A pty nobody sized reports 0 columns.
    const cols = this.out.stderr.columns || 100;
    let text = this.render();
    // Measure what shows, not the colour escapes; a line longer than the terminal would wrap and
    // leave a trail of half-erased status lines behind.
    const plain = stripAnsi(text);
    if (plain.length > cols - 1) text = plain.slice(0, cols - 2) + '…';
    this.out.stderr.write('\r\u001b[2K' + text);
    this.shown = true;
  }

  /**
   * After stop() nothing redraws: log lines that arrive while the server closes (device.left) are
   * printed plain, and render() is never called again (it reads a server that is closing).
   */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.shown) this.out.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:${String(ss).padStart(2, '0')}`;
}
