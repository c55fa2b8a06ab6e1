import { describe, expect, it } from 'vitest';
import { authMac, macsEqual, serverMac } from '../../src/protocol/index.js';

// Expected values computed outside this code base with OpenSSL, e.g.
//   printf '<"epara-auth-v1" ‖ serverNonce ‖ deviceNonce ‖ "fpga-01" as hex>' | xxd -r -p |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
// so a change of label, field order or encoding on either end of the handshake fails here.
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const serverNonce = hex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');
const deviceNonce = hex('b0b1b2b3b4b5b6b7b8b9babbbcbdbebf');

describe('handshake MACs (SPEC §5.3, §5.4)', () => {
  it('the device proof is HMAC-SHA256 over "epara-auth-v1" ‖ serverNonce ‖ deviceNonce ‖ deviceId', () => {
    expect(Buffer.from(authMac(key, serverNonce, deviceNonce, 'fpga-01')).toString('hex')).toBe(
      '97db589e8a2287a921ba84589d8935a5a366509e41ed8337b473ea3110b5102c',
    );
  });

  it('the server proof uses its own label and the nonces in the other order', () => {
    const mac = serverMac(key, deviceNonce, serverNonce, 'fpga-01');
    expect(Buffer.from(mac).toString('hex')).toBe('b264659f6d325aa149e6abb8ba0d719a016a08a564aa84a19c12f635f44f5963');
    expect(macsEqual(mac, authMac(key, serverNonce, deviceNonce, 'fpga-01'))).toBe(false);
  });

  it('compares in constant time and treats a length mismatch as unequal', () => {
    const mac = authMac(key, serverNonce, deviceNonce, 'fpga-01');
    expect(macsEqual(mac, new Uint8Array(mac))).toBe(true);
    expect(macsEqual(mac, mac.subarray(0, 31))).toBe(false);
  });
});
