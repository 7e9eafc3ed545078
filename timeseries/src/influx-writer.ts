import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DeadLetterFile, type RejectedLines } from './dead-letter-file.js';
import { InfluxError, isInfluxError } from './errors.js';
import type { InfluxTarget } from './influx-target.js';
import { LineSender, type SendResult } from './line-sender.js';
import { splitLines } from './split-lines.js';
import { Spool, type SpoolBatch } from './spool.js';
import { type LinePriority, SpoolBudget } from './spool-budget.js';

export interface InfluxWriterOptions {
  target: InfluxTarget;
  /** Directory of the durable spool: one sub-directory per retention policy, plus `rejected.log`. */
  spoolDir: string;
  logger: Logger;
  metrics: Registry;
  /** Lines per request; InfluxData recommends about 5,000. Default 5000. */
  batchSize?: number;
  /** Longest wait before a partial batch is sent, so stored data stays fresh. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Disk bound of the spool; beyond it telemetry is refused, events never. Default 1 GiB. */
  maxSpoolBytes?: number;
  /** Backoff between failed attempts: exponential from `minMs` to `maxMs`, with jitter. */
  retry?: { minMs?: number; maxMs?: number };
  /** Per-request timeout. Default 10 s. */
  requestTimeoutMs?: number;
  /** Upper bound of one request body. Default 8 MiB (InfluxDB 1.x accepts 25 MB by default). */
  maxBatchBytes?: number;
  /** `stats().healthy` turns false once writes have been failing this long. Default 10 s. */
  unhealthyAfterMs?: number;
  /** How long `stop()` tries to send what is pending. Default 5 s. */
  stopTimeoutMs?: number;
  /** Spool segment size. Default 16 MiB. */
  segmentBytes?: number;
  /** Spool fdatasync period. Default 200 ms. */
  fsyncIntervalMs?: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

export interface WriteOptions {
  /** Default 'telemetry'. Events are accepted even when the spool is full. */
  priority?: LinePriority;
  /** Retention policy for v1 (`rp`), or the `database/rp` bucket/database for v2/v3. */
  retentionPolicy?: string;
}

export interface InfluxWriterStats {
  pendingLines: number;
  pendingBytes: number;
  /** Bytes of all spool files (what counts against `maxSpoolBytes`). */
  spoolBytes: number;
  spoolFull: boolean;
  /** ms since epoch of the last batch InfluxDB accepted. */
  lastSuccessAt: number | undefined;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** ms since epoch since which writes have been failing, if they are. */
  failingSince: number | undefined;
  /** For /readyz: running and InfluxDB not failing for longer than `unhealthyAfterMs`. */
  healthy: boolean;
}

interface Channel {
  rp: string | undefined;
  spool: Spool;
  sending: boolean;
  /** Waiting to send a partial batch (flush interval). */
  waitTimer: NodeJS.Timeout | undefined;
  /** Waiting out a backoff after a failure. */
  backoffTimer: NodeJS.Timeout | undefined;
  attempt: number;
  lastSendAt: number;
  failingSince: number | undefined;
  lastFailureLogAt: number;
}

interface Metrics {
  points: Counter;
  batches: Counter<'result'>;
  duration: Histogram;
  spoolFull: Counter;
  rejected: Counter;
  refused: Counter;
}

const DEFAULT_DIR = 'default';
const RP_DIR_PREFIX = 'rp-';
/** Requests spent isolating the offending lines of one rejected batch before giving up on precision. */
const MAX_ISOLATION_REQUESTS = 64;
const FAILURE_LOG_INTERVAL_MS = 10_000;
const SAMPLE_LINES = 3;

function channelDir(rp: string | undefined): string {
  return rp === undefined ? DEFAULT_DIR : `${RP_DIR_PREFIX}${encodeURIComponent(rp)}`;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/**
 * Durable, batched InfluxDB writer. `write()` resolves once the lines are in the on-disk spool
 * (what the MQTT PUBACK waits for); a send loop per retention policy takes batches from the
 * spool, posts them and only then moves the spool's cursor. An InfluxDB outage, a crash or a
 * SIGKILL therefore loses no accepted line: what was not confirmed is sent again after restart.
 *
 * We use the client library's `Point` for formatting only: its WriteApi posts to /api/v2/write
 * alone, flushes every 60 s and drops lines when its buffer fills.
 */
export class InfluxWriter {
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly channels = new Map<string, Channel>();
  private readonly opening = new Map<string, Promise<Channel>>();
  private readonly progressWaiters = new Set<() => void>();
  private flushing = 0;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private log: Logger;
  private m: Metrics | undefined;
  private budget: SpoolBudget | undefined;
  private sender: LineSender | undefined;
  private deadLetter: DeadLetterFile | undefined;
  private abort = new AbortController();

  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBatchBytes: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly unhealthyAfterMs: number;

  constructor(private readonly options: InfluxWriterOptions) {
    this.log = options.logger;
    this.batchSize = options.batchSize ?? 5000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024;
    this.retryMinMs = options.retry?.minMs ?? 200;
    this.retryMaxMs = options.retry?.maxMs ?? 30_000;
    this.unhealthyAfterMs = options.unhealthyAfterMs ?? 10_000;
  }

  /** Opens the spool (recovering what a previous run left) and starts the send loops. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new InfluxError('ANL_ERR_WRITER_STOPPED', `writer cannot start: ${this.state}`);
    this.state = 'starting';
    this.log = this.options.logger.child({ module: 'influx-writer' });
    this.sender = new LineSender({
      target: this.options.target,
      ...(this.options.requestTimeoutMs === undefined ? {} : { timeoutMs: this.options.requestTimeoutMs }),
      ...(this.options.fetch === undefined ? {} : { fetch: this.options.fetch }),
    });
    this.m = this.createMetrics(this.options.metrics);
    this.budget = new SpoolBudget(this.options.maxSpoolBytes ?? 1024 * 1024 * 1024, (full, usedBytes) =>
      this.onSpoolFull(full, usedBytes),
    );
    this.deadLetter = new DeadLetterFile(join(this.options.spoolDir, 'rejected.log'));
    try {
      await mkdir(this.options.spoolDir, { recursive: true });
      const rps: (string | undefined)[] = [undefined];
      for (const entry of await readdir(this.options.spoolDir, { withFileTypes: true })) {
        if (entry.isDirectory() && entry.name.startsWith(RP_DIR_PREFIX)) {
          rps.push(decodeURIComponent(entry.name.slice(RP_DIR_PREFIX.length)));
        }
      }
      for (const rp of rps) await this.channel(rp);
    } catch (err) {
      await this.closeSpools();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'running';
    const pendingLines = this.totalPending();
    this.log.info(
      { spoolDir: this.options.spoolDir, pendingLines, url: this.options.target.url },
      'influx writer started',
    );
    for (const ch of this.channels.values()) this.kick(ch);
  }

  private createMetrics(registry: Registry): Metrics {
    const registers = [registry];
    // Gauges are sampled at scrape time: nothing to maintain on the hot path.
    const spoolBytes = () => this.budget?.usedBytes ?? 0;
    const pendingLines = () => this.totalPending();
    new Gauge({
      name: 'anlian_influx_spool_bytes',
      help: 'Bytes of the InfluxDB spool files on disk',
      registers,
      collect() {
        this.set(spoolBytes());
      },
    });
    new Gauge({
      name: 'anlian_influx_pending_lines',
      help: 'Lines accepted into the spool and not yet confirmed by InfluxDB',
      registers,
      collect() {
        this.set(pendingLines());
      },
    });
    return {
      points: new Counter({
        name: 'anlian_influx_points_written_total',
        help: 'Points InfluxDB accepted',
        registers,
      }),
      batches: new Counter({
        name: 'anlian_influx_write_batches_total',
        help: 'Write requests to InfluxDB by result (ok, retry, rejected)',
        labelNames: ['result'] as const,
        registers,
      }),
      duration: new Histogram({
        name: 'anlian_influx_write_duration_seconds',
        help: 'Duration of one write request to InfluxDB',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
      spoolFull: new Counter({
        name: 'anlian_influx_spool_full_total',
        help: 'Times the spool reached its bound and began refusing telemetry',
        registers,
      }),
      rejected: new Counter({
        name: 'anlian_influx_rejected_lines_total',
        help: 'Lines InfluxDB refused (400/413/422), moved to rejected.log in the spool directory',
        registers,
      }),
      refused: new Counter({
        name: 'anlian_influx_spool_refused_lines_total',
        help: 'Telemetry lines refused because the spool was full',
        registers,
      }),
    };
  }

  private onSpoolFull(full: boolean, usedBytes: number): void {
    const maxBytes = this.budget?.maxBytes;
    if (full) {
      this.m?.spoolFull.inc();
      this.log.error(
        { usedBytes, maxBytes, pendingLines: this.totalPending(), lastError: this.lastError },
        'InfluxDB spool is full: telemetry is refused until InfluxDB catches up; events are still accepted',
      );
    } else {
      this.log.warn({ usedBytes, maxBytes }, 'InfluxDB spool has room again: telemetry accepted');
    }
  }

  /** The channel (spool + send loop) of a retention policy, opened on first use. */
  private channel(rp: string | undefined): Promise<Channel> {
    const key = channelDir(rp);
    const existing = this.channels.get(key);
    if (existing !== undefined) return Promise.resolve(existing);
    let opening = this.opening.get(key);
    if (opening === undefined) {
      opening = this.openChannel(rp, key).finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  private async openChannel(rp: string | undefined, key: string): Promise<Channel> {
    const spool = new Spool({
      dir: join(this.options.spoolDir, key),
      budget: this.budget as SpoolBudget,
      logger: this.log.child({ rp: rp ?? '(default)' }),
      ...(this.options.segmentBytes === undefined ? {} : { segmentBytes: this.options.segmentBytes }),
      ...(this.options.fsyncIntervalMs === undefined ? {} : { fsyncIntervalMs: this.options.fsyncIntervalMs }),
    });
    await spool.open();
    if (this.state === 'stopped') {
      await spool.close();
      throw new InfluxError('ANL_ERR_WRITER_STOPPED', 'influx writer stopped while opening a spool');
    }
    const ch: Channel = {
      rp,
      spool,
      sending: false,
      waitTimer: undefined,
      backoffTimer: undefined,
      attempt: 0,
      lastSendAt: 0,
      failingSince: undefined,
      lastFailureLogAt: 0,
    };
    this.channels.set(key, ch);
    return ch;
  }

  /**
   * Appends `lines` to the spool. Resolves once they are written to disk — the point at which
   * the MQTT message may be acknowledged. Rejects with `ANL_ERR_SPOOL_FULL` for telemetry when
   * the spool is at its bound.
   */
  async write(lines: string[], opts: WriteOptions = {}): Promise<void> {
    if (this.state !== 'running' && this.state !== 'stopping') {
      throw new InfluxError(
        this.state === 'new' || this.state === 'starting' ? 'ANL_ERR_WRITER_NOT_STARTED' : 'ANL_ERR_WRITER_STOPPED',
        `influx writer is ${this.state}`,
      );
    }
    if (lines.length === 0) return;
    const key = channelDir(opts.retentionPolicy);
    const ch = this.channels.get(key) ?? (await this.channel(opts.retentionPolicy));
    try {
      await ch.spool.append(lines, { priority: opts.priority ?? 'telemetry' });
    } catch (err) {
      if (isInfluxError(err, 'ANL_ERR_SPOOL_FULL')) this.m?.refused.inc(lines.length);
      throw err;
    }
    this.kick(ch);
  }

  /** Decides whether `ch` sends now, after the flush interval, or not at all. */
  private kick(ch: Channel): void {
    if (this.state !== 'running' && this.state !== 'stopping') return;
    if (ch.sending || ch.backoffTimer !== undefined) return;
    const pending = ch.spool.pendingLines;
    if (pending === 0) return;
    const delay =
      pending >= this.batchSize || this.flushing > 0
        ? 0
        : Math.max(0, ch.lastSendAt + this.flushIntervalMs - Date.now());
    if (delay === 0) {
      this.startSend(ch);
    } else if (ch.waitTimer === undefined) {
      ch.waitTimer = setTimeout(() => {
        ch.waitTimer = undefined;
        this.kick(ch);
      }, delay);
    }
  }

  private startSend(ch: Channel): void {
    if (ch.waitTimer !== undefined) clearTimeout(ch.waitTimer);
    ch.waitTimer = undefined;
    ch.sending = true;
    ch.lastSendAt = Date.now();
    // sendOnce handles every error itself; nothing to await here.
    void this.sendOnce(ch);
  }

  private async sendOnce(ch: Channel): Promise<void> {
    try {
      const batch = await ch.spool.read(this.batchSize, this.maxBatchBytes);
      if (batch !== undefined) await this.deliver(ch, batch);
    } catch (err) {
      // Spool I/O (read, cursor) failed: the data stays where it is; try again after a backoff.
      this.noteFailure(ch, `spool: ${err instanceof Error ? err.message : String(err)}`, err);
      this.scheduleRetry(ch);
    } finally {
      ch.sending = false;
      for (const wake of this.progressWaiters) wake();
      this.kick(ch);
    }
  }

  private async post(ch: Channel, body: Uint8Array | string): Promise<SendResult> {
    const started = performance.now();
    const result = await (this.sender as LineSender).send(body, { rp: ch.rp, signal: this.abort.signal });
    this.m?.duration.observe((performance.now() - started) / 1000);
    this.m?.batches.inc({ result: result.kind === 'reject' ? 'rejected' : result.kind });
    return result;
  }

  private async deliver(ch: Channel, batch: SpoolBatch): Promise<void> {
    const result = await this.post(ch, batch.body);
    switch (result.kind) {
      case 'ok':
        await ch.spool.commit(batch);
        this.m?.points.inc(batch.lines);
        this.noteSuccess(ch);
        return;
      case 'retry':
        this.noteFailure(ch, result.error);
        this.scheduleRetry(ch, result.afterMs);
        return;
      case 'reject': {
        const isolated = await this.isolateRejected(ch, batch, result);
        if (isolated === undefined) return; // interrupted: the whole batch stays in the spool
        if (isolated.length > 0) {
          await (this.deadLetter as DeadLetterFile).append(ch.rp, isolated);
          this.reportRejected(ch, batch, isolated);
        }
        await ch.spool.commit(batch);
        let rejected = 0;
        for (const g of isolated) rejected += g.lines.length;
        this.m?.points.inc(batch.lines - rejected);
        this.noteSuccess(ch);
        return;
      }
      default: {
        const never: never = result;
        throw new Error(`unexpected send result ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * InfluxDB refused a batch. 1.x wrote its good points and dropped the bad ones ("partial
   * write"); 2.x refuses the whole batch on a parse error; 413 refuses it for its size. To keep
   * every good line and dead-letter only the offending ones, bisect: send halves again until
   * single lines are left (re-sending the good ones is idempotent). The number of requests is
   * bounded; past it, refused pieces go to the dead-letter file whole.
   *
   * Returns the refused lines, or `undefined` when InfluxDB became unavailable or the writer is
   * stopping (the batch then stays in the spool and is retried as a whole).
   */
  private async isolateRejected(
    ch: Channel,
    batch: SpoolBatch,
    first: Extract<SendResult, { kind: 'reject' }>,
  ): Promise<RejectedLines[] | undefined> {
    const lines = splitLines(batch.body.toString('utf8'));
    if (lines.length <= 1) return [{ lines, status: first.status, error: first.body }];
    const rejected: RejectedLines[] = [];
    const queue: string[][] = halves(lines);
    let requests = 0;
    while (queue.length > 0) {
      if (this.state !== 'running' && this.state !== 'stopping') return undefined;
      if (this.abort.signal.aborted) return undefined;
      const piece = queue.shift() as string[];
      const result = await this.post(ch, piece.join('\n'));
      requests++;
      if (result.kind === 'retry') {
        this.noteFailure(ch, result.error);
        this.scheduleRetry(ch, result.afterMs);
        return undefined;
      }
      if (result.kind === 'reject') {
        if (piece.length > 1 && requests < MAX_ISOLATION_REQUESTS) queue.unshift(...halves(piece));
        else rejected.push({ lines: piece, status: result.status, error: result.body });
      }
    }
    return rejected;
  }

  private reportRejected(ch: Channel, batch: SpoolBatch, groups: RejectedLines[]): void {
    let count = 0;
    const sample: string[] = [];
    for (const g of groups) {
      count += g.lines.length;
      for (const line of g.lines) if (sample.length < SAMPLE_LINES) sample.push(truncate(line, 300));
    }
    this.m?.rejected.inc(count);
    this.log.error(
      {
        rp: ch.rp ?? '(default)',
        status: groups[0]?.status,
        error: truncate(groups[0]?.error ?? '', 500),
        rejectedLines: count,
        batchLines: batch.lines,
        sample,
        deadLetter: this.deadLetter?.path,
      },
      'InfluxDB refused lines; moved to the dead-letter file',
    );
  }

  private noteSuccess(ch: Channel): void {
    const now = Date.now();
    if (ch.failingSince !== undefined) {
      this.log.info(
        { rp: ch.rp ?? '(default)', failedForMs: now - ch.failingSince, pendingLines: ch.spool.pendingLines },
        'InfluxDB writes recovered',
      );
    }
    ch.failingSince = undefined;
    ch.attempt = 0;
    ch.lastFailureLogAt = 0;
    this.lastSuccessAt = now;
  }

  private noteFailure(ch: Channel, error: string, err?: unknown): void {
    const now = Date.now();
    ch.failingSince ??= now;
    this.lastError = error;
    this.lastErrorAt = now;
    if (now - ch.lastFailureLogAt >= FAILURE_LOG_INTERVAL_MS) {
      ch.lastFailureLogAt = now;
      const failingForMs = now - ch.failingSince;
      const level = failingForMs > this.unhealthyAfterMs ? 'error' : 'warn';
      this.log[level](
        { rp: ch.rp ?? '(default)', error, err, failingForMs, pendingLines: ch.spool.pendingLines },
        'InfluxDB write failed; data stays in the spool and will be retried',
      );
    }
  }

  /** Exponential backoff with jitter (half fixed, half random), or the server's Retry-After. */
  private scheduleRetry(ch: Channel, afterMs?: number): void {
    if (this.state !== 'running' && this.state !== 'stopping') return;
    ch.attempt++;
    const exp = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(ch.attempt - 1, 30));
    const delay =
      afterMs === undefined
        ? exp / 2 + (Math.random() * exp) / 2
        : Math.min(Math.max(afterMs, this.retryMinMs), 600_000);
    if (ch.backoffTimer !== undefined) clearTimeout(ch.backoffTimer);
    ch.backoffTimer = setTimeout(() => {
      ch.backoffTimer = undefined;
      this.kick(ch);
    }, delay);
  }

  private totalPending(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.spool.pendingLines;
    return n;
  }

  private waitProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.progressWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.progressWaiters.add(done);
    });
  }

  /**
   * Sends everything pending now, skipping the flush interval and any backoff in progress.
   * Resolves true once nothing is pending, false when `timeoutMs` ran out first.
   */
  async flush(timeoutMs = 5000): Promise<boolean> {
    if (this.state !== 'running' && this.state !== 'stopping') return this.totalPending() === 0;
    const deadline = Date.now() + timeoutMs;
    this.flushing++;
    try {
      for (const ch of this.channels.values()) {
        if (ch.backoffTimer !== undefined) {
          clearTimeout(ch.backoffTimer);
          ch.backoffTimer = undefined;
        }
      }
      for (;;) {
        let busy = false;
        for (const ch of this.channels.values()) {
          this.kick(ch);
          busy ||= ch.sending;
        }
        if (!busy && this.totalPending() === 0) return true;
        const remaining = deadline - Date.now();
        if (remaining <= 0) return false;
        await this.waitProgress(remaining);
      }
    } finally {
      this.flushing--;
    }
  }

  /**
   * Stops the send loops after a last flush (bounded by `timeoutMs`), then syncs and closes the
   * spool. Whatever is unsent stays on disk for the next start.
   */
  async stop(timeoutMs = this.options.stopTimeoutMs ?? 5000): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    if (this.state !== 'running') return;
    this.state = 'stopping';
    const flushed = await this.flush(timeoutMs);
    this.state = 'stopped';
    this.abort.abort();
    for (const ch of this.channels.values()) {
      if (ch.waitTimer !== undefined) clearTimeout(ch.waitTimer);
      if (ch.backoffTimer !== undefined) clearTimeout(ch.backoffTimer);
      ch.waitTimer = undefined;
      ch.backoffTimer = undefined;
    }
    // An aborted request ends at once; wait for its loop to let go of the spool.
    while ([...this.channels.values()].some((ch) => ch.sending)) await this.waitProgress(1000);
    const pendingLines = this.totalPending();
    await this.closeSpools();
    this.log[flushed ? 'info' : 'warn'](
      { pendingLines, spoolDir: this.options.spoolDir },
      flushed ? 'influx writer stopped' : 'influx writer stopped; unsent lines stay in the spool',
    );
  }

  private async closeSpools(): Promise<void> {
    const results = await Promise.allSettled([...this.channels.values()].map((ch) => ch.spool.close()));
    for (const r of results) {
      if (r.status === 'rejected') this.log.error({ err: r.reason }, 'closing a spool failed');
    }
  }

  stats(): InfluxWriterStats {
    let pendingLines = 0;
    let pendingBytes = 0;
    let failingSince: number | undefined;
    for (const ch of this.channels.values()) {
      pendingLines += ch.spool.pendingLines;
      pendingBytes += ch.spool.pendingBytes;
      if (ch.failingSince !== undefined && (failingSince === undefined || ch.failingSince < failingSince)) {
        failingSince = ch.failingSince;
      }
    }
    const healthy =
      this.state === 'running' && (failingSince === undefined || Date.now() - failingSince <= this.unhealthyAfterMs);
    return {
      pendingLines,
      pendingBytes,
      spoolBytes: this.budget?.usedBytes ?? 0,
      spoolFull: this.budget?.isFull ?? false,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      failingSince,
      healthy,
    };
  }
}

function halves<T>(items: T[]): T[][] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}
