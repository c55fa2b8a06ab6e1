import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/server-adapter/event-log.js';
import { SseParser, sseFrame, type SseMessage } from '../../src/server-adapter/sse-codec.js';

const audit = (i: number) => ({ at: i, event: `e${i}` });

describe('EventLog: the bounded buffer GET /events resumes from', () => {
  it('gives every event an id of this run and resumes right after the id given', () => {
    const log = new EventLog(8, () => 1_000_000, 'lfls');
    const ids = [1, 2, 3, 4, 5].map((i) => log.append('audit', audit(i)).id);
    expect(ids).toEqual(['lfls-1', 'lfls-2', 'lfls-3', 'lfls-4', 'lfls-5']);
    expect(log.lastId).toBe('lfls-5');
    const r = log.resume('lfls-2');
    expect(r.gap).toBeUndefined();
    expect(r.events.map((e) => e.id)).toEqual(['lfls-3', 'lfls-4', 'lfls-5']);
    expect(log.resume('lfls-5')).toEqual({ events: [] });
  });

  it('holds at most capacity events; an older resume gets a buffer gap naming how many were lost', () => {
    const log = new EventLog(4, () => 36 ** 2, '100');
    for (let i = 1; i <= 10; i++) log.append('audit', audit(i));
    // 7..10 are kept; a client that saw 6 misses nothing, one that saw 3 misses 4, 5, 6.
    expect(log.resume('100-6').events.map((e) => e.id)).toEqual(['100-7', '100-8', '100-9', '100-10']);
    const r = log.resume('100-3');
    expect(r.gap?.kind).toBe('stream.gap');
    expect(r.gap?.data).toEqual({ reason: 'buffer', lastEventId: '100-3', oldestId: '100-7', missed: 3 });
    // The gap's own id resumes into the replay that follows it.
    expect(r.gap?.id).toBe('100-6');
    expect(r.events.map((e) => e.id)).toEqual(['100-7', '100-8', '100-9', '100-10']);
  });

  it('tells a restart (id of another run) and a made-up id from a buffer gap', () => {
    const log = new EventLog(4, () => 36 ** 3, '1000');
    log.append('audit', audit(1));
    expect(log.resume('zz-1').gap?.data.reason).toBe('restart');
    expect(log.resume('1000-9').gap?.data.reason).toBe('unknown');
    expect(log.resume('not an id').gap?.data.reason).toBe('unknown');
    expect(log.resume('x'.repeat(500)).gap?.data.lastEventId).toHaveLength(64);
  });

  it('a throwing listener does not stop the others', () => {
    const log = new EventLog(4);
    const seen: string[] = [];
    log.subscribe(() => {
      throw new Error('boom');
    });
    const off = log.subscribe((e) => seen.push(e.id));
    log.append('audit', audit(1));
    off();
    log.append('audit', audit(2));
    expect(seen).toHaveLength(1);
    expect(log.subscribers).toBe(1);
  });
});

describe('SSE framing and parsing', () => {
  it('round-trips events however the bytes are split, and follows the spec field rules', () => {
    const log = new EventLog(4, () => 5, '5');
    const events = [log.append('audit', { at: 1, event: 'a\nb', detail: 'x: y' }), log.append('device.lost', { deviceId: 'd', state: 'lost' })];
    const text = 'retry: 1500\n: comment\n\n' + events.map(sseFrame).join('') + 'data: one\r\ndata:two\r\n\r\nid: 7\nevent: x\n\n';
    for (const step of [1, 3, 7, text.length]) {
      const got: SseMessage[] = [];
      const p = new SseParser((m) => got.push(m));
      for (let i = 0; i < text.length; i += step) p.push(text.slice(i, i + step));
      expect(p.retryMs).toBe(1500);
      expect(got.map((m) => m.event)).toEqual(['audit', 'device.lost', 'message']);
      expect(JSON.parse(got[0]!.data)).toEqual(events[0]);
      expect(got[1]!.lastEventId).toBe('5-2');
      expect(got[2]!.data).toBe('one\ntwo');
      // A block without data dispatches nothing but its id is kept.
      expect(p.lastEventId).toBe('7');
    }
  });
});
