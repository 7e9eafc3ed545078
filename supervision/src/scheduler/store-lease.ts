import type { Kysely } from 'kysely';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

/**
 * A lease in the operational store, so that work meant to run once per county runs on one node
 * even when several dashboard nodes run the scheduler (production form). Portable: an insert that
 * does nothing on conflict, then an update that takes the lease only if this holder has it or it
 * has expired — one statement, so two nodes cannot both take it.
 */
export class StoreLease {
  constructor(
    private readonly db: Kysely<SupervisionDatabase>,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes or renews the lease; true when this holder has it until `now + ttl`. */
  async acquire(now: number): Promise<boolean> {
    await this.db
      .insertInto('supervision_leases')
      .values({ name: this.name, holder: this.holder, expires_at: now + this.ttlMs, acquired_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const r = await this.db
      .updateTable('supervision_leases')
      .set((eb) => ({
        expires_at: now + this.ttlMs,
        acquired_at: eb.case().when('holder', '=', this.holder).then(eb.ref('acquired_at')).else(now).end(),
        holder: this.holder,
      }))
      .where('name', '=', this.name)
      .where((eb) => eb.or([eb('holder', '=', this.holder), eb('expires_at', '<', now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Gives the lease up (on stop), so another node takes over at once rather than after the ttl. */
  async release(): Promise<void> {
    await this.db
      .deleteFrom('supervision_leases')
      .where('name', '=', this.name)
      .where('holder', '=', this.holder)
      .execute();
  }

  async holderNow(now: number): Promise<string | undefined> {
    const r = await this.db
      .selectFrom('supervision_leases')
      .select(['holder', 'expires_at'])
      .where('name', '=', this.name)
      .executeTakeFirst();
    return r && r.expires_at >= now ? r.holder : undefined;
  }
}
