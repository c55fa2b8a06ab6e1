import { describe, expect, it } from 'vitest';
import { runDemo } from '../../firmware-sims/demo.js';

// Issue 17 §6: `npm run demo` runs the gateway with the EPARA scheduler and shows it at work.
describe('the demo shows the EPARA scheduler', () => {
  it('prints the categories, a plan, a second plan after demand changes, where requests went and why, and a flow', async () => {
    const lines: string[] = [];
    const code = await runDemo({ out: (l) => lines.push(l), devices: 2, seed: 4 });
    const text = lines.join('\n');
    expect(code, text).toBe(0);
    expect(text).toMatch(/server listening on 127\.0\.0\.1:\d+ .*scheduler epara/);
    expect(text).toMatch(/service {5}classifier {4}latency-single {4}SLO 200 ms/);
    expect(text).toMatch(/service {5}segmentation  frequency-single  10 fps, 100 ms a frame/);
    expect(text).toMatch(/placement {3}plan 1 \(the services as deployed; scheduler epara, planning took [\d.]+ ms\)/);
    expect(text).toMatch(/placement {3}plan 2 \(after the demand change; scheduler epara/);
    // Devices → units under each plan; after the demand change the classifier runs on both devices.
    const plan2 = text.slice(text.indexOf('plan 2 ('));
    expect(plan2).toMatch(/^ {12}microcomputer-1 +→ .*classifier ×\d/m);
    expect(plan2).toMatch(/^ {12}embedded-gpu-1 +→ .*classifier ×\d/m);
    expect(text).toMatch(/routed by epara: predicted finish [\d.]+ ms \(others: (microcomputer|embedded-gpu)-1 [\d.]+ ms\)/);
    expect(text).toMatch(/flow {8}segmentation at 10 fps: \d+\/20 frames on time \(attainment \d+%\)/);
  }, 60_000);
});
