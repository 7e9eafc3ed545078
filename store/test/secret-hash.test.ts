import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SecretHash } from '@anlian/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hashSecret,
  MOSQUITTO_PBKDF2,
  mosquittoHash,
  parseSecretHash,
  verifyMosquittoHash,
  verifySecret,
} from '../src/secret-hash.js';

const SECRET = 'correct horse battery staple';

describe('scrypt secret hash', () => {
  it('produces the protocol format with the agreed parameters', async () => {
    const hash = await hashSecret(SECRET);
    expect(SecretHash.safeParse(hash).success).toBe(true);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const parsed = parseSecretHash(hash);
    expect(parsed?.salt.length).toBe(16);
    expect(parsed?.key.length).toBe(32);
    expect(hash).not.toContain(SECRET);
  });

  it('salts: the same secret hashes differently twice', async () => {
    expect(await hashSecret(SECRET)).not.toBe(await hashSecret(SECRET));
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const hash = await hashSecret(SECRET);
    expect(await verifySecret(SECRET, hash)).toBe(true);
    expect(await verifySecret(`${SECRET}!`, hash)).toBe(false);
    expect(await verifySecret('', hash)).toBe(false);
  });

  it('refuses malformed and out-of-range hashes without throwing', async () => {
    expect(await verifySecret(SECRET, 'not-a-hash')).toBe(false);
    expect(await verifySecret(SECRET, 'scrypt$1000$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(
      false,
    );
    // N = 2^30 would ask for 128 GiB.
    expect(parseSecretHash(`scrypt$${2 ** 30}$8$1$AAAAAAAAAAAAAAAAAAAAAA$${'A'.repeat(43)}`)).toBeUndefined();
  });
});

describe('mosquitto password hash', () => {
  it('matches an independent PBKDF2-HMAC-SHA512 implementation (Python hashlib, fixed salt)', () => {
    // python3: hashlib.pbkdf2_hmac('sha512', b'correct horse battery staple', bytes(range(1, 13)), 101, 64)
    const expected =
      '$7$101$AQIDBAUGBwgJCgsM$S7+I10tBe1gNcVtvJ+MM9YH7fs5eYEsM5sa8IkhT5gxp1Cf+80p3WRlxG/dUIf9pXCf5EfYc+HKOkfIRsvTGgA==';
    const salt = Buffer.from(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(mosquittoHash(SECRET, { salt })).toBe(expected);
  });

  it('uses mosquitto 2 defaults: 101 iterations, 12-byte salt, 64-byte hash, standard base64', () => {
    const hash = mosquittoHash(SECRET);
    const [, type, iterations, salt, key] = hash.split('$');
    expect(type).toBe('7');
    expect(Number(iterations)).toBe(MOSQUITTO_PBKDF2.iterations);
    expect(Buffer.from(salt ?? '', 'base64').length).toBe(12);
    expect(Buffer.from(key ?? '', 'base64').length).toBe(64);
    expect(verifyMosquittoHash(SECRET, hash)).toBe(true);
    expect(verifyMosquittoHash('wrong secret here', hash)).toBe(false);
    expect(verifyMosquittoHash(SECRET, 'garbage')).toBe(false);
  });

  const mosquittoPasswd = '/usr/bin/mosquitto_passwd';
  describe.skipIf(!existsSync(mosquittoPasswd))('against mosquitto_passwd', () => {
    let dir: string | undefined;
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('verifies a line written by mosquitto_passwd, and recomputes it from its salt', async () => {
      dir = await mkdtemp(join(tmpdir(), 'anlian-mosq-'));
      const file = join(dir, 'passwd');
      await promisify(execFile)(mosquittoPasswd, ['-c', '-b', file, 'gw-1', SECRET]);
      const line = (await readFile(file, 'utf8')).trim();
      const hash = line.slice('gw-1:'.length);
      expect(hash.startsWith('$7$')).toBe(true);
      expect(verifyMosquittoHash(SECRET, hash)).toBe(true);
      const [, , iterations, salt] = hash.split('$');
      expect(mosquittoHash(SECRET, { salt: Buffer.from(salt ?? '', 'base64'), iterations: Number(iterations) })).toBe(
        hash,
      );
    });
  });
});
