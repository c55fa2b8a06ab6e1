/**
 * The emulated Basys 3 + HC-05 endpoint: the FPGA profile over a 9600-baud SPP line, receiving an
 * int8-fc-weights artifact and answering with the bit-exact model of the RTL. The expected scores
 * are computed here independently (plain integer arithmetic).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatedDevice } from '../../firmware-sims/emulated-device.js';
import { int8FcArtifact } from '../../src/conformance/int8-fc-model.js';
import { emulatedSerialPair } from '../../firmware-sims/links/serial-link.js';
import { mulberry32 } from '../../firmware-sims/links/prng.js';
import { tensorFrom, tensorValues } from '../../src/protocol/index.js';
import type { ByteStream } from '../../src/transport/byte-stream.js';
import { cleanupList, startServer, tmpDir, until } from './helpers.js';

const cleanups = cleanupList();
afterEach(() => cleanups.run());

describe('FPGA profile over Bluetooth SPP at 9600 baud', () => {
  it('registers as class fpga, takes int8 weights, and classifies like the RTL', async () => {
    const server = await startServer(cleanups);
    const { key } = server.provision({ id: 'basys3-1', deviceClass: 'fpga' });
    const connector = async (): Promise<ByteStream> => {
      const [dev, srv, ctl] = emulatedSerialPair({ baud: 9600, kind: 'spp', latencyMs: 20, seed: 11 });
      cleanups.add(() => ctl.disconnect());
      server.attachStream(srv);
      return dev;
    };
    const fpga = await EmulatedDevice.start({ profile: 'fpga', id: 'basys3-1', key, connector, dataDir: tmpDir(cleanups), seed: 2, timeScale: 1 });
    cleanups.add(() => fpga.close());
    expect(server.device('basys3-1')).toMatchObject({ deviceClass: 'fpga' });
    expect(server.device('basys3-1')?.caps).toMatchObject({ formats: ['int8-fc-weights'], runtimes: ['int8-fc'] });

    const rand = mulberry32(77);
    const W = Int8Array.from({ length: 64 }, () => rand.int(256) - 128);
    const B = Int32Array.from({ length: 4 }, () => rand.int(2000) - 1000);
    const recs = await server.deploy({ artifact: int8FcArtifact(W, B), service: 'int8-fc', version: '1', kind: 'int8-fc-weights', category: 'latency-single', to: ['basys3-1'], timeoutMs: 30_000 });
    expect(recs[0]!.state).toBe('ready');
    await until(() => server.candidates('int8-fc').length === 1);

    for (let k = 0; k < 3; k++) {
      const x = Int8Array.from({ length: 16 }, () => rand.int(256) - 128);
      const want = Array.from({ length: 4 }, (_, o) => {
        let acc = B[o]!;
        for (let i = 0; i < 16; i++) acc += W[o * 16 + i]! * x[i]!;
        return Math.max(0, acc);
      });
      const r = await server.infer('int8-fc', [tensorFrom('x', x, [16])], { deadlineMs: 10_000 });
      expect(Array.from(tensorValues(r.outputs[0]!) as Int32Array)).toEqual(want);
      expect((tensorValues(r.outputs[1]!) as Uint8Array)[0]).toBe(want.indexOf(Math.max(...want)));
    }
    await expect(server.infer('int8-fc', [tensorFrom('x', new Float32Array(16), [16])], { deadlineMs: 10_000 })).rejects.toMatchObject({ code: 'infer.bad_input' });
  });

  it('refuses an ONNX model: the FPGA takes only int8-fc-weights', async () => {
    const server = await startServer(cleanups);
    const { port } = await server.listenTcp({ host: '127.0.0.1', port: 0 });
    const { key } = server.provision({ id: 'basys3-2', deviceClass: 'fpga' });
    const { connectTcp } = await import('../../src/transport/tcp.js');
    const fpga = await EmulatedDevice.start({ profile: 'fpga', id: 'basys3-2', key, connector: () => connectTcp({ host: '127.0.0.1', port }), dataDir: tmpDir(cleanups), timeScale: 0 });
    cleanups.add(() => fpga.close());
    // The server knows from its HELLO (caps.formats) and refuses before offering (issue 21, defect 4).
    await until(() => server.device('basys3-2')?.state === 'active');
    await expect(server.deploy({ artifact: new Uint8Array(300).fill(1), service: 'cls', version: '1', kind: 'onnx', category: 'latency-single', to: ['basys3-2'], timeoutMs: 20_000 })).rejects.toMatchObject({ code: 'deploy.unsupported_kind' });
    expect(server.deployments({ deviceId: 'basys3-2' })).toEqual([]);
  });
});
