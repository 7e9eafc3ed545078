import { open, rename, stat } from 'node:fs/promises';

/** Lines InfluxDB refused, with the answer that refused them. */
export interface RejectedLines {
  lines: readonly string[];
  status: number;
  error: string;
}

/**
 * The `rejected.log` dead-letter file: line protocol InfluxDB refused (field type conflicts,
 * parse errors, points outside the retention policy), each group preceded by a `#` comment
 * naming time, retention policy, status and error. `#` lines are comments in line protocol,
 * so after fixing the cause an operator can replay the file as it is (e.g. `influx -import`
 * after adding the `# DML` / `# CONTEXT-…` header lines, or a `curl --data-binary @…` per rp).
 *
 * Bounded: past `maxBytes` the file is renamed to `rejected.log.1` (replacing the previous one),
 * so a device that keeps sending a conflicting type cannot fill the disk.
 */
export class DeadLetterFile {
  constructor(
    readonly path: string,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  async append(rp: string | undefined, groups: readonly RejectedLines[], now = new Date()): Promise<void> {
    let text = '';
    for (const g of groups) {
      const error = g.error.replace(/\s+/g, ' ').trim().slice(0, 1000);
      text += `# ${now.toISOString()} rp=${rp ?? '(default)'} status=${g.status} lines=${g.lines.length} error=${error}\n`;
      text += `${g.lines.join('\n')}\n`;
    }
    const size = await stat(this.path).then(
      (s) => s.size,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return 0;
        throw err;
      },
    );
    if (size > 0 && size + Buffer.byteLength(text) > this.maxBytes) await rename(this.path, `${this.path}.1`);
    const file = await open(this.path, 'a');
    try {
      await file.write(text);
      // The lines leave the spool once this returns: they must be on disk first.
      await file.datasync();
    } finally {
      await file.close();
    }
  }
}
