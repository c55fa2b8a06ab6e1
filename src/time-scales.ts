import type { NumberOptionSpec } from './options.js';

/**
 * EPARA's three time scales, defined once: the live server (EparaServer `periods`, `epara serve
 * --heartbeat-ms / --state-sync-ms / --placement-ms`, config.json), the simulator (`runScenario`,
 * `simulate`) and docs/server.md all take their defaults and ranges from here. (They used to be
 * written three times with different minimums: 100 ms vs 10 ms for STATE, 1 s vs 100 ms for
 * placement.) The minimums are the smallest periods that still make sense on loopback with a
 * time-scaled run; the maximums keep a typo from silently disabling a loop.
 */
export const TIME_SCALES = {
  /** Heartbeat period the server proposes to devices (WELCOME), and the liveness sweep's base. */
  heartbeatMs: { default: 5000, min: 100, max: 3_600_000, integer: true, unit: 'ms' },
  /** STATE report period told to devices in WELCOME: how fresh the routers' view of backlogs is. */
  stateSyncMs: { default: 3000, min: 10, max: 3_600_000, integer: true, unit: 'ms' },
  /** How often the state-aware placement runs (and the window measured demand is smoothed over). */
  placementMs: { default: 60_000, min: 100, max: 86_400_000, integer: true, unit: 'ms' },
} as const satisfies Record<string, NumberOptionSpec>;

export type TimeScale = keyof typeof TIME_SCALES;
