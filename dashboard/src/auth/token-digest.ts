import { createHash, randomBytes } from 'node:crypto';

/**
 * Session and kiosk tokens: 32 random bytes, stored only as their SHA-256. They are long and
 * random, so a fast hash suffices (unlike passwords, which are scrypt-hashed).
 */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
