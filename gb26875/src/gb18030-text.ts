/**
 * Descriptions (部件说明, 31 bytes; configuration texts) are GB 18030 strings (GB/T 26875.3 §8.2.1.2).
 *
 * Node decodes GB 18030 natively (`TextDecoder('gb18030')`, the WHATWG decoder). Calling it for
 * every component status is the codec's main cost, so the two-byte table — GBK's 23,940 pairs:
 * all of Chinese in common use, full-width forms, punctuation — is read once from that same decoder
 * into a lookup table, and a description of ASCII and two-byte characters (what panels send) is
 * decoded from it. Anything else — a four-byte sequence (rare CJK extensions), a lone 0x80 or an
 * invalid pair — goes to the native decoder, so every field decodes exactly as `TextDecoder` would.
 *
 * Node has no GB 18030 encoder: the encoder inverts the same table. Characters outside it become `?`.
 */
const decoder = new TextDecoder('gb18030');

const LEAD_MIN = 0x81;
const LEAD_MAX = 0xfe;
const TRAIL_MIN = 0x40;
const TRAIL_MAX = 0xfe;
const TRAILS = TRAIL_MAX - TRAIL_MIN + 1;

/** Two-byte pair → UTF-16 code unit, at `(lead − 0x81) × 191 + (trail − 0x40)`; 0 where there is none. */
let pairTable: Uint16Array | undefined;

function twoByteTable(): Uint16Array {
  if (pairTable) return pairTable;
  const pairs: number[] = [];
  for (let lead = LEAD_MIN; lead <= LEAD_MAX; lead++) {
    for (let trail = TRAIL_MIN; trail <= TRAIL_MAX; trail++) {
      if (trail !== 0x7f) pairs.push(lead, trail);
    }
  }
  // Every two-byte GB 18030 sequence decodes to one BMP code unit, so position i is pair i.
  const text = decoder.decode(Uint8Array.from(pairs));
  const t = new Uint16Array((LEAD_MAX - LEAD_MIN + 1) * TRAILS);
  if (text.length === pairs.length / 2) {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      // U+FFFD (not a character) stays 0: such a pair takes the native decoder.
      if (unit !== 0xfffd) t[((pairs[2 * i] ?? 0) - LEAD_MIN) * TRAILS + ((pairs[2 * i + 1] ?? 0) - TRAIL_MIN)] = unit;
    }
  }
  pairTable = t;
  return t;
}

/** Code units of the field being decoded (reused: no allocation per field). */
const units: number[] = [];

/**
 * Decodes a fixed-width GB 18030 field, `bytes[from, to)`: up to the first NUL, trailing white
 * space dropped.
 */
export function decodeGb18030(bytes: Uint8Array, from = 0, to = bytes.length): string {
  let end = from;
  while (end < to && bytes[end] !== 0) end++;
  while (end > from && bytes[end - 1] === 0x20) end--;
  if (end === from) return '';
  const table = twoByteTable();
  units.length = 0;
  for (let i = from; i < end; ) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      units.push(b);
      i++;
      continue;
    }
    const trail = bytes[i + 1] ?? 0;
    const unit =
      b >= LEAD_MIN && b <= LEAD_MAX && i + 1 < end && trail >= TRAIL_MIN && trail <= TRAIL_MAX
        ? (table[(b - LEAD_MIN) * TRAILS + (trail - TRAIL_MIN)] ?? 0)
        : 0;
    if (unit === 0) return decoder.decode(bytes.subarray(from, end)).trimEnd();
    units.push(unit);
    i += 2;
  }
  // trimEnd: a full-width space (U+3000) pads as often as 0x20 does.
  return String.fromCharCode.apply(null, units).trimEnd();
}

let encodeMap: Map<number, number> | undefined;

function encodeTable(): Map<number, number> {
  if (encodeMap) return encodeMap;
  const t = twoByteTable();
  const m = new Map<number, number>();
  for (let lead = LEAD_MIN; lead <= LEAD_MAX; lead++) {
    for (let trail = TRAIL_MIN; trail <= TRAIL_MAX; trail++) {
      const unit = t[(lead - LEAD_MIN) * TRAILS + (trail - TRAIL_MIN)] ?? 0;
      // The first pair of a character is its encoding (later ones are compatibility duplicates).
      if (unit !== 0 && !m.has(unit)) m.set(unit, (lead << 8) | trail);
    }
  }
  encodeMap = m;
  return m;
}

/**
 * Encodes `text` as GB 18030 into at most `maxBytes` bytes, never splitting a character; the rest
 * of a fixed-width field is left for the caller to pad.
 */
export function encodeGb18030(text: string, maxBytes: number): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0x3f;
    if (cp < 0x80) {
      if (out.length + 1 > maxBytes) break;
      out.push(cp);
      continue;
    }
    const code = cp <= 0xffff ? encodeTable().get(cp) : undefined;
    if (code === undefined) {
      if (out.length + 1 > maxBytes) break;
      out.push(0x3f);
      continue;
    }
    if (out.length + 2 > maxBytes) break;
    out.push(code >> 8, code & 0xff);
  }
  return Uint8Array.from(out);
}
