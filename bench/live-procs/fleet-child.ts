/**
 * bench/live.ts's fleet: emulated devices (the real EparaDevice with real onnxruntime sessions,
 * dressed as their profile by firmware-sims) over real TCP to the bench's EparaServer, each paced
 * by the simulator's device model (paced-runner.ts). Commands by IPC:
 *   { op: 'start', port, devices: [{ id, key, profile, seed }], services: ServiceSpec[], timeScale, dataDir }
 *     -> { op: 'started', count }
 *   { op: 'stop' } -> { op: 'stopped' }
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import type { ProfileName } from '../../firmware-sims/profiles.js';
import type { ServiceSpec } from '../../src/scheduler/types.js';
import { PROFILES } from '../../src/sim/device-profiles.js';
import { connectTcp } from '../../src/transport/tcp.js';
import { DeviceSlots, pacedRunner } from './paced-runner.js';

type Cmd =
  | { op: 'start'; port: number; devices: Array<{ id: string; key: string; profile: ProfileName; seed: number }>; services: ServiceSpec[]; timeScale: number; dataDir: string }
  | { op: 'stop' };

const devices: EmulatedDevice[] = [];

process.on('message', (m: Cmd) => {
  void (async () => {
    if (m.op === 'start') {
      const specs = new Map(m.services.map((s) => [s.name, s]));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < m.devices.length) {
          const d = m.devices[next++]!;
          const slots = new DeviceSlots(PROFILES[d.profile], d.seed);
          const dataDir = join(m.dataDir, d.id);
          mkdirSync(dataDir, { recursive: true });
          devices.push(
            await EmulatedDevice.start({
              profile: d.profile,
              id: d.id,
              key: d.key,
              seed: d.seed,
              connector: () => connectTcp({ host: '127.0.0.1', port: m.port }),
              dataDir,
              device: { wrapRunner: (service, runner) => pacedRunner(slots, specs.get(service), runner, m.timeScale) },
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      process.send!({ op: 'started', count: devices.length });
    } else if (m.op === 'stop') {
      await Promise.all(devices.splice(0).map((d) => d.close({ graceful: false }).catch(() => undefined)));
      process.send!({ op: 'stopped' });
      process.exit(0);
    }
  })().catch((e: unknown) => {
    console.error('fleet child:', e);
    process.exit(1);
  });
});
process.on('disconnect', () => process.exit(0));
