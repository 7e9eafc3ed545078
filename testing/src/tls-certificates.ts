import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificatesOptions {
  /** Write the files here (created when missing, kept by `remove()`); default a fresh temp dir that `remove()` deletes. */
  dir?: string;
  /** Names the server certificate is valid for. Default `127.0.0.1`, `::1` and `localhost`. */
  hosts?: readonly string[];
  /** Validity in days. Default 30. */
  days?: number;
  /** The CA's common name (tells two CAs apart in a failure message). Default `Anlian test CA`. */
  caName?: string;
  /** The `openssl` binary. Default `openssl` on the PATH (Debian package `openssl`). */
  openssl?: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** PEM certificate of the throwaway CA: what a gateway's `county.caFile` points at. */
  readonly caFile: string;
  /** PEM certificate of the broker, signed by the CA, for `hosts`. */
  readonly certFile: string;
  /** PEM private key of the broker's certificate (mode 0600). */
  readonly keyFile: string;
  /** Deletes the directory, unless it was the given `dir`. */
  remove(): Promise<void>;
}

const isIp = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');

/**
 * A throwaway certificate authority and a server certificate it signed, made with Debian's
 * `openssl` command at test time (no key is ever checked in): P-256 keys, the server certificate
 * with subjectAltName entries for `hosts` (RFC 6125: clients match the name or IP address they
 * connected to against the SAN, not the CN) and extendedKeyUsage serverAuth.
 */
export async function createTestCertificates(opts: TestCertificatesOptions = {}): Promise<TestCertificates> {
  const openssl = opts.openssl ?? 'openssl';
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'anlian-tls-')));
  if (opts.dir) await mkdir(dir, { recursive: true });
  const days = String(opts.days ?? 30);
  const hosts = opts.hosts ?? ['127.0.0.1', '::1', 'localhost'];
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await run(openssl, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      days,
      '-subj',
      `/CN=${opts.caName ?? 'Anlian test CA'}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run(openssl, [
      'req',
      ...ec,
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
    ]);
    const san = hosts.map((h) => (isIp(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await writeFile(
      file('server.ext'),
      [
        `subjectAltName=${san}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    await run(openssl, [
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.crt'),
      '-days',
      days,
      '-extfile',
      file('server.ext'),
    ]);
  } catch (err) {
    if (!opts.dir) await rm(dir, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error(`${openssl} not found: TLS tests need it (Debian: apt-get install openssl)`);
    throw new Error(`openssl failed: ${e.stderr ?? e.message}`, { cause: err });
  }
  // The CA key is needed for nothing else: a test CA signs exactly one certificate.
  await rm(file('ca.key'), { force: true });
  return {
    dir,
    caFile: file('ca.crt'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    remove: async () => {
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
