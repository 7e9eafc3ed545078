/**
 * Splits a line-protocol body into its lines. A string field value may hold a raw newline
 * (`Point.stringField` escapes only `"` and `\`), so this follows InfluxDB's own line scanner
 * (`scanLine` in influxdb 1.x `models/points.go`): after the first unescaped space the fields
 * begin, and a `"` opens or closes a string only when it follows a field's `=`. Blank lines
 * are dropped. Only used on the rare path that isolates rejected lines.
 */
export function splitLines(body: string): string[] {
  const lines: string[] = [];
  const n = body.length;
  let start = 0;
  while (start < n) {
    let i = start;
    let quoted = false;
    let fields = false;
    let equals = 0;
    let commas = 0;
    while (i < n) {
      const c = body.charCodeAt(i);
      if (c === 0x5c /* \ */ && i + 2 < n) {
        i += 2;
        continue;
      }
      if (c === 0x20 /* space */) fields = true;
      if (fields) {
        if (!quoted && c === 0x3d /* = */) {
          i++;
          equals++;
          continue;
        }
        if (!quoted && c === 0x2c /* , */) {
          i++;
          commas++;
          continue;
        }
        if (c === 0x22 /* " */ && equals > commas) {
          i++;
          quoted = !quoted;
          continue;
        }
      }
      if (c === 0x0a /* \n */ && !quoted) break;
      i++;
    }
    const line = body.slice(start, i);
    if (line.trim().length > 0) lines.push(line);
    start = i + 1;
  }
  return lines;
}
