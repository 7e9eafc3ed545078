import { createHmac, pbkdf2Sync, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { SecretHash } from '@anlian/protocol';

/** scrypt cost parameters: N=2^14, r=8, p=1 (about 16 MiB and some tens of ms per hash). */
export const SCRYPT_PARAMS = Object.freeze({ N: 16_384, r: 8, p: 1 });
const SCRYPT_SALT_BYTES = 16;
const SCRYPT_KEY_BYTES = 32;
/** Refuse stored parameters beyond these: a hash is data, and must not make us allocate gigabytes. */
const SCRYPT_MAX = Object.freeze({ N: 1 << 20, r: 32, p: 16 });

function scryptAsync(secret: string, salt: Buffer, keyLen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hashes a secret into the protocol's `scrypt$N$r$p$salt$hash` format (base64url parts). */
export async function hashSecret(secret: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const key = await scryptAsync(secret, salt, SCRYPT_KEY_BYTES, { N, r, p, maxmem: scryptMaxmem(N, r, p) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True when `secret` matches `stored`; false for a wrong secret and for a malformed or out-of-range hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parseSecretHash(stored);
  if (!parsed) return false;
  const { N, r, p, salt, key } = parsed;
  const actual = await scryptAsync(secret, salt, key.length, { N, r, p, maxmem: scryptMaxmem(N, r, p) });
  return timingSafeEqual(actual, key);
}

export interface ParsedSecretHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** Splits a stored hash; `undefined` when it is not the protocol's format or its parameters are out of range. */
export function parseSecretHash(stored: string): ParsedSecretHash | undefined {
  if (!SecretHash.safeParse(stored).success) return undefined;
  const [, n, r, p, salt, key] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const { N } = params;
  // scrypt needs N to be a power of two greater than 1.
  if (!(N > 1 && N <= SCRYPT_MAX.N && (N & (N - 1)) === 0)) return undefined;
  if (!(params.r >= 1 && params.r <= SCRYPT_MAX.r && params.p >= 1 && params.p <= SCRYPT_MAX.p)) return undefined;
  const saltBuf = Buffer.from(salt ?? '', 'base64url');
  const keyBuf = Buffer.from(key ?? '', 'base64url');
  if (saltBuf.length < 8 || keyBuf.length < 16 || keyBuf.length > 64) return undefined;
  return { ...params, salt: saltBuf, key: keyBuf };
}

function scryptMaxmem(N: number, r: number, p: number): number {
  // Node refuses when 128·N·r·p (plus overhead) exceeds maxmem; leave room for the overhead.
  return 128 * N * r * p + 128 * r * p + 1024 * 1024 + 256 * N * r;
}

/** mosquitto 2.0's `pw_sha512_pbkdf2` defaults (lib/password_mosq.h: SALT_LEN 12, PW_DEFAULT_ITERATIONS 101). */
export const MOSQUITTO_PBKDF2 = Object.freeze({ iterations: 101, saltBytes: 12, hashBytes: 64 });

/**
 * A mosquitto 2 password-file hash: `$7$<iterations>$<base64 salt>$<base64 hash>`, PBKDF2-HMAC-SHA512
 * with standard (padded) base64, as `mosquitto_passwd` writes it after `username:`.
 * `salt` is for tests that compare with a known line; leave it out otherwise.
 */
export function mosquittoHash(secret: string, opts: { salt?: Buffer; iterations?: number } = {}): string {
  const salt = opts.salt ?? randomBytes(MOSQUITTO_PBKDF2.saltBytes);
  const iterations = opts.iterations ?? MOSQUITTO_PBKDF2.iterations;
  const hash = pbkdf2Sync(secret, salt, iterations, MOSQUITTO_PBKDF2.hashBytes, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `hash` is a `$7$` mosquitto hash of `secret`. */
export function verifyMosquittoHash(secret: string, hash: string): boolean {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/.exec(hash);
  if (!m) return false;
  const iterations = Number(m[1]);
  if (iterations < 1 || iterations > 1_000_000) return false;
  const expected = Buffer.from(m[3] ?? '', 'base64');
  if (expected.length === 0) return false;
  const actual = pbkdf2Sync(secret, Buffer.from(m[2] ?? '', 'base64'), iterations, expected.length, 'sha512');
  return timingSafeEqual(actual, expected);
}

/**
 * A fast keyed digest for the verification cache: lets it recognise a secret it has verified
 * without keeping the secret. Keyed with a per-process random key, so a memory dump does not
 * yield plain SHA-256 digests to brute-force at GPU speed.
 */
export function secretDigest(secret: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(secret, 'utf8').digest();
}
