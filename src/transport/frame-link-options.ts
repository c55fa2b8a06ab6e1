import { resolveNumbers, type NumberOptionSpec } from '../options.js';
import { WINDOW_MAX, WINDOW_MIN } from '../protocol/constants.js';
import type { Clock } from './clock.js';
import type { LinkKind } from './byte-stream.js';

export interface FrameLinkOptions {
  /** Largest unencoded frame, both directions, until setNegotiated() (SPEC §2.2: 512 before the handshake). */
  maxFrame?: number;
  /** Requests we keep unanswered at once (the peer's rxWindow after the handshake). */
  window?: number;
  /** Base time to wait for an answer per attempt; the link adds the frame's transmission time when the baud is known. */
  requestTimeoutMs?: number;
  /** Retransmissions (with RTX) after the first attempt. */
  retries?: number;
  /** Recent responses kept to answer retransmitted requests without executing them again. */
  responseCacheSize?: number;
  /** Byte bound on the same cache (large INFER_RESPONSEs). */
  responseCacheBytes?: number;
  /** Requests allowed to wait for a window slot; more fail fast with link.backpressure. */
  maxQueuedRequests?: number;
  /** Line rate; defaults to the stream's baudRate when it has one. */
  baudRate?: number;
  clock?: Clock;
}

export type NumericLinkOption = Exclude<keyof FrameLinkOptions, 'clock'>;

/** Ranges of every numeric FrameLink option. Defaults here are the LAN ones; defaultsFor(kind) adjusts. */
export const FRAME_LINK_OPTIONS: Record<NumericLinkOption, NumberOptionSpec> = {
  maxFrame: { default: 512, min: 64, max: 65535, integer: true, unit: 'bytes' },
  window: { default: 8, min: WINDOW_MIN, max: WINDOW_MAX, integer: true, unit: 'requests' },
  requestTimeoutMs: { default: 1000, min: 1, max: 600_000, unit: 'ms' },
  // Very lossy links (a noisy UART with 1% byte loss) need dozens of attempts per frame; 100 is
  // the ceiling so a dead peer is still detected in bounded time.
  retries: { default: 3, min: 0, max: 100, integer: true },
  responseCacheSize: { default: 256, min: 1, max: 65_536, integer: true, unit: 'responses' },
  responseCacheBytes: { default: 4 << 20, min: 1024, max: 1 << 30, integer: true, unit: 'bytes' },
  maxQueuedRequests: { default: 1024, min: 1, max: 1_000_000, integer: true, unit: 'requests' },
  baudRate: { default: 0, min: 0, max: 1_000_000_000, unit: 'bit/s' },
};

/**
 * Per-link-kind defaults. A 9600-baud HC-05 is not a LAN: its base timeout is longer, it retries
 * more, and its per-attempt timeout also grows with frame size / baud (see attemptTimeoutMs).
 */
export function defaultsFor(kind: LinkKind): Required<Pick<FrameLinkOptions, 'requestTimeoutMs' | 'retries' | 'window'>> {
  switch (kind) {
    case 'tcp':
    case 'tls':
      return { requestTimeoutMs: 2000, retries: 3, window: 16 };
    case 'memory':
      return { requestTimeoutMs: 1000, retries: 2, window: 16 };
    case 'uart':
      return { requestTimeoutMs: 500, retries: 5, window: 4 };
    case 'spp':
      // RFCOMM adds tens of ms of latency and the HC-05 buffers; give it room.
      return { requestTimeoutMs: 1500, retries: 5, window: 4 };
    case 'ble':
      // A 30 ms connection interval with slave latency can delay an answer by several intervals.
      return { requestTimeoutMs: 1500, retries: 5, window: 4 };
    case 'emulated':
      return { requestTimeoutMs: 500, retries: 5, window: 8 };
  }
}

export type ResolvedFrameLinkOptions = Record<NumericLinkOption, number>;

export function resolveFrameLinkOptions(kind: LinkKind, given: FrameLinkOptions | undefined, streamBaud?: number): ResolvedFrameLinkOptions {
  const d = defaultsFor(kind);
  const specs: Record<NumericLinkOption, NumberOptionSpec> = {
    ...FRAME_LINK_OPTIONS,
    requestTimeoutMs: { ...FRAME_LINK_OPTIONS.requestTimeoutMs, default: d.requestTimeoutMs },
    retries: { ...FRAME_LINK_OPTIONS.retries, default: d.retries },
    window: { ...FRAME_LINK_OPTIONS.window, default: d.window },
    baudRate: { ...FRAME_LINK_OPTIONS.baudRate, default: streamBaud ?? 0 },
  };
  const { clock: _clock, ...numeric } = given ?? {};
  return resolveNumbers(specs, numeric as Partial<Record<NumericLinkOption, unknown>>);
}

/**
 * Time to wait for one attempt's answer. On a link with a known baud rate the request, the
 * answer, and whatever may be queued ahead of them (up to `window` frames each way) all take
 * line time: 10 bit times per byte at 8N1, plus COBS overhead.
 */
export function attemptTimeoutMs(o: ResolvedFrameLinkOptions, requestWireBytes: number, window: number, maxFrame: number): number {
  if (!o.baudRate) return o.requestTimeoutMs;
  const byteMs = 10_000 / o.baudRate;
  const maxWire = maxFrame + Math.ceil(maxFrame / 254) + 1;
  return o.requestTimeoutMs + byteMs * (requestWireBytes + 2 * window * maxWire);
}
