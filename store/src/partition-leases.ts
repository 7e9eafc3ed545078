import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';

/** A change of what this node holds: partitions it took, partitions it gave up or lost. */
export interface LeaseChange {
  acquired: number[];
  lost: number[];
}

/**
 * Which partitions of a piece of work this node holds (alerting's institutions, a report
 * scheduler's one job). Several nodes run the same work; each partition is held by exactly one
 * at a time, and when that node dies another takes the partition over.
 */
export interface PartitionLeases {
  readonly partitions: number;
  holds(partition: number): boolean;
  /** The partitions held now, ascending. */
  held(): number[];
  /** Called after every change; returns the unsubscribe. */
  onChange(listener: (change: LeaseChange) => void): () => void;
  start(): Promise<void>;
  /** Gives every partition up (another node takes them at once) and stops. */
  stop(): Promise<void>;
  describe(): { holder: string; held: number[]; partitions: number; members?: number; connected?: boolean };
}

/** The partition of a key (an institution id): stable across nodes and restarts. */
export function partitionOf(key: string, partitions: number): number {
  if (partitions <= 1) return 0;
  return createHash('sha1').update(key).digest().readUInt32BE(0) % partitions;
}

/**
 * One node holds everything: SQLite (`anlian up`, a small county), tests. No election: there is
 * nobody to elect against.
 */
export class SoleLeases implements PartitionLeases {
  constructor(readonly partitions = 1) {}
  holds(_partition: number): boolean {
    return true;
  }
  held(): number[] {
    return Array.from({ length: this.partitions }, (_, i) => i);
  }
  onChange(): () => void {
    return () => {};
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  describe() {
    return { holder: 'this process', held: this.held(), partitions: this.partitions };
  }
}

export interface PgAdvisoryLeasesOptions {
  /** The operational store's PostgreSQL URL; the leases keep one connection of their own. */
  url: string;
  /** What is partitioned (`alerting`, `reports`): names the advisory-lock key space. */
  name: string;
  partitions: number;
  /** This node, for logs. */
  nodeId: string;
  logger: Logger;
  /** How often the node looks for partitions to take or give up. Default 500 ms. */
  pollMs?: number;
  /**
   * After (re)connecting, how long a node waits before it takes a partition that nobody holds, so
   * the node that held it before an outage takes it back first. Default 3 s.
   */
  reconnectGraceMs?: number;
  /** A partition is given up for balance only after being held this long. Default 5 s. */
  settleMs?: number;
  clock?: () => number;
}

/**
 * Partition leases as PostgreSQL session-level advisory locks (`pg_try_advisory_lock(space, p)`),
 * with membership as a lock per node in a second key space.
 *
 * - **A node dies:** PostgreSQL ends its session when the connection closes (at once for a killed
 *   process; after TCP keepalive for a dead machine, see deploy/README.md) and releases its
 *   locks; another node, polling every `pollMs`, takes the partitions.
 * - **Balance:** each node aims at ⌈partitions / members⌉; a node above that gives one partition
 *   up at a time (after holding it `settleMs`), a node below it takes unheld ones.
 * - **PostgreSQL away:** a node cannot tell whether it still holds its partitions. It keeps acting
 *   for them ("send duplicates rather than miss"), reconnects, and re-locks them at once; if
 *   another node got one first, this node loses it then (`onChange` with `lost`). Nobody takes a
 *   partition while PostgreSQL is away, since taking one needs PostgreSQL.
 */
export class PgAdvisoryLeases implements PartitionLeases {
  readonly partitions: number;
  readonly #o: PgAdvisoryLeasesOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #space: number;
  readonly #memberSpace: number;
  readonly #memberKey: number;
  readonly #listeners = new Set<(c: LeaseChange) => void>();
  /** Partition → when this node took it. */
  readonly #held = new Map<number, number>();
  /** Partition → since when nobody holds it (as seen by this node). */
  readonly #unheldSince = new Map<number, number>();
  #client: pg.Client | undefined;
  #connectedAt = 0;
  /** Connected again after a lost connection (not the first connect). */
  #reconnected = false;
  #everConnected = false;
  #members = 1;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #busy = false;
  #warnedDown = false;

  constructor(opts: PgAdvisoryLeasesOptions) {
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1 || opts.partitions > 4096) {
      throw new RangeError('partitions must be an integer from 1 to 4096');
    }
    this.#o = opts;
    this.partitions = opts.partitions;
    this.#log = opts.logger.child({ module: 'leases', leases: opts.name });
    this.#clock = opts.clock ?? Date.now;
    this.#space = int32Of(`anlian:${opts.name}:partition`);
    this.#memberSpace = int32Of(`anlian:${opts.name}:member`);
    this.#memberKey = int32Of(opts.nodeId);
  }

  holds(partition: number): boolean {
    return this.#held.has(partition);
  }

  held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  onChange(listener: (change: LeaseChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  describe() {
    return {
      holder: this.#o.nodeId,
      held: this.held(),
      partitions: this.partitions,
      members: this.#members,
      connected: this.#client !== undefined,
    };
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#round();
    this.#timer = setInterval(() => void this.#round(), this.#o.pollMs ?? 500);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const lost = this.held();
    this.#held.clear();
    const client = this.#client;
    this.#client = undefined;
    // Ending the session releases every lock at once: the others take over without waiting.
    await client?.end().catch(() => {});
    if (lost.length > 0) this.#emit({ acquired: [], lost });
  }

  async #round(): Promise<void> {
    if (this.#busy || !this.#running) return;
    this.#busy = true;
    try {
      const client = this.#client ?? (await this.#connect());
      if (!client) return;
      await this.#balance(client);
    } catch (err) {
      this.#disconnected(err);
    } finally {
      this.#busy = false;
    }
  }

  async #connect(): Promise<pg.Client | undefined> {
    const client = new pg.Client({
      connectionString: this.#o.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
      connectionTimeoutMillis: 3000,
      application_name: `anlian-${this.#o.name}-leases-${this.#o.nodeId}`.slice(0, 63),
    });
    client.on('error', (err) => this.#disconnected(err));
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      this.#disconnected(err);
      return undefined;
    }
    this.#client = client;
    this.#connectedAt = this.#clock();
    this.#reconnected = this.#everConnected;
    this.#everConnected = true;
    if (this.#warnedDown) this.#log.info('lease connection back');
    this.#warnedDown = false;
    await client.query('select pg_try_advisory_lock($1, $2)', [this.#memberSpace, this.#memberKey]);
    // What this node held before the connection broke, it re-locks first.
    const lost: number[] = [];
    for (const p of this.held()) {
      if (!(await this.#tryLock(client, p))) {
        this.#held.delete(p);
        lost.push(p);
      }
    }
    if (lost.length > 0) {
      this.#log.warn({ lost }, 'partitions taken by another node while PostgreSQL was unreachable');
      this.#emit({ acquired: [], lost });
    }
    return client;
  }

  async #balance(client: pg.Client): Promise<void> {
    const now = this.#clock();
    const members = await client.query<{ n: string }>(
      "select count(*) as n from pg_locks where locktype = 'advisory' and classid = $1::int::oid and objsubid = 2 and granted",
      [this.#memberSpace],
    );
    this.#members = Math.max(1, Number(members.rows[0]?.n ?? 1));
    const heldRows = await client.query<{ p: string }>(
      "select objid::bigint as p from pg_locks where locktype = 'advisory' and classid = $1::int::oid and objsubid = 2 and granted",
      [this.#space],
    );
    const heldByAnyone = new Set(heldRows.rows.map((r) => Number(r.p)));
    const target = Math.ceil(this.partitions / this.#members);

    // Too many: give one up (the highest), if it has been ours long enough and others exist.
    if (this.#held.size > target && this.#members > 1) {
      const p = this.held().at(-1);
      const since = p === undefined ? undefined : this.#held.get(p);
      if (p !== undefined && since !== undefined && now - since >= (this.#o.settleMs ?? 5000)) {
        await client.query('select pg_advisory_unlock($1, $2)', [this.#space, p]);
        this.#held.delete(p);
        this.#log.info({ partition: p, members: this.#members, target }, 'partition given up for balance');
        this.#emit({ acquired: [], lost: [p] });
        return;
      }
    }

    const acquired: number[] = [];
    // Just back after losing PostgreSQL: the node that held a partition before re-locks it first.
    const inGrace = this.#reconnected && now - this.#connectedAt < (this.#o.reconnectGraceMs ?? 3000);
    for (let p = 0; p < this.partitions; p++) {
      if (this.#held.has(p)) continue;
      if (heldByAnyone.has(p)) {
        this.#unheldSince.delete(p);
        continue;
      }
      const unheldSince = this.#unheldSince.get(p) ?? now;
      this.#unheldSince.set(p, unheldSince);
      // Below target: take it. At or above target: only an orphan nobody else took for a while.
      const orphan = now - unheldSince >= 2 * (this.#o.pollMs ?? 500);
      const belowTarget = this.#held.size + acquired.length < target;
      if ((!belowTarget || inGrace) && !orphan) continue;
      if (await this.#tryLock(client, p)) {
        this.#held.set(p, now);
        this.#unheldSince.delete(p);
        acquired.push(p);
      }
    }
    if (acquired.length > 0) {
      this.#log.info({ acquired, held: this.held(), members: this.#members }, 'partitions taken');
      this.#emit({ acquired, lost: [] });
    }
  }

  async #tryLock(client: pg.Client, p: number): Promise<boolean> {
    const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [this.#space, p]);
    return r.rows[0]?.ok === true;
  }

  #disconnected(err: unknown): void {
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
    if (!this.#warnedDown && this.#running) {
      this.#log.warn(
        { err: (err as Error)?.message, held: this.held() },
        'lease connection to PostgreSQL lost; acting for the partitions held until it is back',
      );
    }
    this.#warnedDown = true;
  }

  #emit(change: LeaseChange): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#log.error({ err }, 'lease listener failed');
      }
    }
  }
}

/** A stable signed 32-bit key for an advisory-lock key space. */
function int32Of(s: string): number {
  // Positive, so that pg_locks' unsigned `classid`/`objid` read back the same number.
  return createHash('sha1').update(s).digest().readUInt32BE(0) & 0x7fffffff;
}
