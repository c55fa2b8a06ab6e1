import { EparaError } from '../../errors.js';
import type { Capabilities, ServiceState, StateMessage } from '../../protocol/index.js';
import type { FrameLink } from '../../transport/frame-link.js';
import { hostLoad } from '../capabilities.js';
import type { DeviceHooks } from '../device-options.js';
import type { ServiceTable } from '../services.js';
import { serviceStateOf } from '../state-report.js';
import type { DeviceHandlers } from './table.js';

/**
 * Liveness on the device (SPEC §7.2, §7.3): PING, BYE and the server's ERROR notifications it
 * receives, and the STATE reports it sends (on the negotiated period and soon after a service
 * changes). HEARTBEAT is sent by the link loop's timer.
 */
export const livenessHandlers: Pick<DeviceHandlers, 'PING' | 'BYE' | 'ERROR'> = {
  // The link answers PING itself (no pingGate on a device); kept for a link that does not.
  PING: (m) => (m.data ? { type: 'PONG', data: m.data } : { type: 'PONG' }),
  // The server is going away: drop the link now and let the loop reconnect with backoff.
  BYE: (_m, { link }) => void link.close(),
  // An ERROR notification answers nothing the device waits for (a failed request gets its ERROR as the answer).
  ERROR: () => undefined,
};

export interface StateReporterHost {
  readonly caps: Capabilities;
  readonly services: ServiceTable;
  readonly hooks: DeviceHooks | undefined;
  /** The current link while the session is ready, else undefined. */
  readyLink(): FrameLink | undefined;
  /** The current link, ready or not (its counters go into STATE). */
  link(): FrameLink | undefined;
  uptimeMs(): number;
}

export class StateReporter {
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(private readonly h: StateReporterHost) {}

  /**
   * The STATE report as it would be sent now. `consume` restarts the served/violation counters
   * (what sending does: they count "since the last STATE").
   */
  build(consume = false): StateMessage {
    const services: ServiceState[] = [...this.h.services.entries.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((e) => serviceStateOf(e, consume ? e.queue?.takeCounters() : e.queue?.peekCounters()));
    const host = hostLoad(this.h.caps.cpuCores);
    const stats = this.h.link()?.stats;
    const msg: StateMessage = {
      type: 'STATE',
      loadPermille: host.loadPermille,
      memFreeKiB: Math.min(host.memFreeKiB, this.h.caps.memoryKiB),
      services,
      uptimeMs: this.h.uptimeMs(),
      ...(stats ? { link: { rxErrors: stats.badFrames, txRetries: stats.retries }, frames: { good: stats.framesIn, badCrc: stats.badFrames, oversize: 0 } } : {}),
    };
    return { ...msg, ...this.h.hooks?.state?.(), type: 'STATE' };
  }

  async send(): Promise<void> {
    const link = this.h.readyLink();
    if (!link) return;
    let state = this.build(true);
    // A small-frame link (an FPGA's 256 bytes) cannot always carry every service: drop the link
    // counters first, then report as many services as fit rather than nothing at all.
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await link.notify(state);
        return;
      } catch (e) {
        if (!(e instanceof EparaError) || e.code !== 'frame.oversize') return;
        const { link: _l, frames: _f, ...rest } = state;
        state = rest.services.length > 1 && !state.link && !state.frames ? { ...rest, services: rest.services.slice(0, Math.ceil(rest.services.length / 2)) } : rest;
      }
    }
  }

  /** Report soon after a service changes state, coalescing bursts. */
  soon(): void {
    if (this.soonTimer || !this.h.readyLink()) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.send();
    }, 20);
  }

  stop(): void {
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
  }
}
