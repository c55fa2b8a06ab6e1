/**
 * FrameLink's public shapes (its counters, events and per-request options) and the record it
 * keeps for each outstanding request. Kept apart so frame-link.ts holds only the mechanism.
 */
import type { EparaError, LinkError, ProtocolError } from '../errors.js';
import type { Frame, Message } from '../protocol/index.js';
import type { TimerHandle } from './clock.js';

export interface FrameLinkStats {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  badFrames: number;
  /** Retransmissions we sent (RTX). */
  retries: number;
  /** Requests that failed with link.timeout after all attempts. */
  timeouts: number;
  /** Retransmitted requests from the peer answered from the response cache (not executed again). */
  duplicates: number;
  /** Responses that arrived for a request no longer waiting (answered already, or timed out). */
  lateResponses: number;
  /** Requests handed to 'request' listeners. */
  requestsHandled: number;
}

export type ReplyFn = (msg: Message) => Promise<void>;

export interface FrameLinkEvents {
  /** A new request from the peer. Answer exactly once with `reply`; a listener that throws or rejects answers with ERROR. */
  request: (frame: Frame, reply: ReplyFn) => void | Promise<void>;
  /** A frame that expects no answer (BYE, STATE, INFER_CANCEL, DEPLOY_RESULT or ERROR without RSP). */
  notify: (frame: Frame) => void;
  /** A piece of the byte stream that was not a valid frame (CRC, COBS, schema…). */
  'bad-frame': (err: ProtocolError) => void;
  /** The link ended. `error` is set when it dropped rather than being closed by us. */
  close: (error?: LinkError) => void;
}

export interface Pending {
  seq: number;
  type: number;
  name: string;
  msg: Message;
  attempts: number;
  maxAttempts: number;
  baseTimeoutMs: number;
  waitedMs: number[];
  wireBytes: number;
  timer?: TimerHandle;
  resolve: (m: Message) => void;
  reject: (e: EparaError) => void;
  /** Set once the request was abandoned through its signal: its frame need not go out. */
  abandoned?: boolean;
}

export interface RequestOptions {
  /** Per-attempt base timeout for this request (overrides requestTimeoutMs). */
  timeoutMs?: number;
  /**
   * The first attempt's whole wait, ms, instead of the base timeout plus the line time of a full
   * window (attemptTimeoutMs): for a caller that measures the round trip itself (the deploy
   * sender's RTT estimate). Later attempts grow from it like any other.
   */
  attemptMs?: number;
  retries?: number;
  /**
   * Abandons the request: no more retransmissions, its window slot is freed, and the call
   * rejects with the signal's reason (an answer that still arrives counts as late). A frame not
   * yet handed to the stream is not sent at all. The bulk sender uses it for chunks that a later
   * cumulative ack or a go-back made moot, so they do not hold the window or the line.
   */
  signal?: AbortSignal;
}
