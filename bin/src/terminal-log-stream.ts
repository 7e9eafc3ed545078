import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'svc', 'module', 'pid', 'hostname']);

/**
 * pino JSON lines made readable for a person at a terminal:
 * `18:14:26 WARN influx-writer: InfluxDB write failed … error="connect ECONNREFUSED"`.
 * The log file keeps the JSON.
 */
export function terminalLogStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(`${line}\n`);
          continue;
        }
        const time = typeof o.time === 'string' ? o.time.slice(11, 19) : '';
        const extras = Object.entries(o)
          .filter(([k]) => !HIDDEN.has(k))
          .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`)
          .join(' ');
        out.write(
          `${time} ${LEVELS[Number(o.level)] ?? o.level} ${o.module ?? o.svc ?? ''}: ${o.msg ?? ''}${extras ? `  ${extras}` : ''}\n`,
        );
      }
      done();
    },
  });
}
