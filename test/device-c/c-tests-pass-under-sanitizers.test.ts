/**
 * The C library's own tests (device-c/tests), built with `make` under AddressSanitizer and
 * UBSan: SHA-256 / HMAC against FIPS 180-4 and RFC 4231, CRC-32C / COBS / frames / messages
 * against every golden vector, the encoders against the valid vectors' bytes, and the device
 * session against a scripted server. Also the no-heap check: no library object references an
 * allocator.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_C_DIR, VECTORS_DIR, makeDeviceC, missingCompiler } from './device-c-build.js';

const noCompiler = missingCompiler();

describe.skipIf(noCompiler !== undefined)('device-c C tests (ASan + UBSan)', () => {
  it('builds with -std=c99 -Wall -Wextra -Werror and passes every suite', () => {
    const out = makeDeviceC('ctests', ['lib', 'check-no-heap']);
    const bin = join(makeDeviceC('ctests', [join('build', 'ctests', 'run-tests')]), 'run-tests');
    const r = spawnSync(bin, [VECTORS_DIR], { cwd: DEVICE_C_DIR, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' } });
    const text = `${r.stdout}\n${r.stderr}`;
    expect(r.status, text).toBe(0);
    const m = /device-c tests: (\d+) passed, (\d+) failed/.exec(r.stdout);
    expect(m, text).not.toBeNull();
    expect(Number(m![2])).toBe(0);
    // every suite ran and checked something
    for (const suite of ['crypto', 'codec', 'messages', 'encoders', 'device']) {
      const s = new RegExp(`suite ${suite}\\s+(\\d+) passed, 0 failed`).exec(r.stdout);
      expect(s, `${suite}: ${text}`).not.toBeNull();
      expect(Number(s![1]), suite).toBeGreaterThan(0);
    }
    expect(out).toContain('ctests');
  }, 240_000);

  it('references no heap allocator (malloc, free, ...) from any library object', () => {
    const r = spawnSync('make', ['-s', 'OUT=build/ctests', 'check-no-heap'], { cwd: DEVICE_C_DIR, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('no heap allocator referenced');
  }, 120_000);
});
