/**
 * What real devices do differently from the standard, as configuration (DOMAIN.md: real devices
 * vary). The standard is the default; a site sets only what its UITD does otherwise.
 */
export interface Dialect {
  /** Time labels: `binary` (GB/T 26875.3 §8.2.2: one binary byte per field) or `bcd` (0x59 = 59). */
  time: 'binary' | 'bcd';
  /** Checksum: `sum` of bytes 3 … end of data, low 8 bits (§8.1) or their `xor`. */
  checksum: 'sum' | 'xor';
  /**
   * The command byte of an answer: `standard` (confirm 3, response 5) or `plus-0x80` (the
   * command being answered + 0x80: 0x82 confirms a send, 0x84 answers a request). A deny is 6 in both.
   */
  reply: 'standard' | 'plus-0x80';
  /** The user version byte (协议版本号, second byte) sent in our frames; the main version is 1. */
  userVersion: number;
}

export const STANDARD_DIALECT: Readonly<Dialect> = Object.freeze({
  time: 'binary',
  checksum: 'sum',
  reply: 'standard',
  userVersion: 1,
});

/** The standard with `overrides` applied. */
export function dialectOf(overrides: Partial<Dialect> = {}): Dialect {
  return { ...STANDARD_DIALECT, ...overrides };
}
