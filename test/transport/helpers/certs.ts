import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const haveOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;

export interface TestPki {
  dir: string;
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A CA nobody trusts, and a client cert it signed. */
  rogueCa: Buffer;
  rogueClientCert: Buffer;
  rogueClientKey: Buffer;
  cleanup(): void;
}

/** Makes a throw-away PKI in a temp dir with openssl (keys never leave the temp dir). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'epara-pki-'));
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const key = (name: string): void => ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  const ca = (name: string): void => {
    key(name);
    ossl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`);
  };
  const leaf = (name: string, signer: string, ext: string): void => {
    key(name);
    ossl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.crt`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  ca('ca');
  ca('rogue');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogueclient', 'rogue', 'extendedKeyUsage=clientAuth\n');
  const r = (f: string): Buffer => readFileSync(join(dir, f));
  return {
    dir,
    ca: r('ca.crt'),
    serverCert: r('server.crt'),
    serverKey: r('server.key'),
    clientCert: r('client.crt'),
    clientKey: r('client.key'),
    rogueCa: r('rogue.crt'),
    rogueClientCert: r('rogueclient.crt'),
    rogueClientKey: r('rogueclient.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
