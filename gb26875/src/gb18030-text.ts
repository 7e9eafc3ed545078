/**
 * Descriptions (部件说明, 31 bytes; configuration texts) are GB 18030 strings (GB/T 26875.3 §8.2.1.2).
 * Node decodes GB 18030 natively; it has no encoder, so the two-byte table (GBK's 21,886 characters:
 * all of Chinese in common use, full-width forms, punctuation) is built once from the decoder.
 * Characters outside it — four-byte GB 18030 sequences: rare CJK extensions, emoji — become `?`.
 */
const decoder = new TextDecoder('gb18030');

/** Decodes a fixed-width GB 18030 field: up to the first NUL, trailing spaces dropped. */
export function decodeGb18030(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0x20) end--;
  if (end === 0) return '';
  // ASCII fast path: most panels send an all-ASCII or all-GB text; the decoder is the slow part.
  let ascii = true;
  for (let i = 0; i < end; i++) {
    if ((bytes[i] ?? 0) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return String.fromCharCode(...bytes.subarray(0, end));
  return decoder.decode(bytes.subarray(0, end)).trimEnd();
}

let table: Map<number, number> | undefined;

function encodeTable(): Map<number, number> {
  if (table) return table;
  const pairs: number[] = [];
  const codes: number[] = [];
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      pairs.push(lead, trail);
      codes.push((lead << 8) | trail);
    }
  }
  // Every two-byte GB 18030 sequence decodes to one BMP code unit, so position i is pair i.
  const text = decoder.decode(Uint8Array.from(pairs));
  const m = new Map<number, number>();
  if (text.length === codes.length) {
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit !== 0xfffd && !m.has(unit)) m.set(unit, codes[i] ?? 0);
    }
  }
  table = m;
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
