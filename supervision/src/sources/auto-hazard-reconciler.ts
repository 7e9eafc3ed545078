import type { Logger } from 'pino';
import { SupervisionError } from '../errors.js';
import { SYSTEM_ACTOR } from '../hazards/hazard.js';
import type { HazardLedger } from '../hazards/hazard-ledger.js';
import type { SupervisionSettings } from '../settings/supervision-settings.js';
import { createSource, type SourceDeps } from './automatic-source.js';

const DAY_MS = 86_400_000;

export interface ReconcileResult {
  opened: number;
  causesCleared: number;
  causesReturned: number;
  /** Sources whose data is not on this store (their hazards were left as they are). */
  skipped: string[];
  /** Sources that failed (logged). */
  failed: string[];
}

/**
 * Turns what the automatic sources see into hazards: a new cause opens exactly one hazard
 * (assigned at once to the source's owner role with the source's deadline); a cause that is gone
 * is recorded on its hazard, which closes only once a person has also reviewed it; a cause that
 * comes back before that keeps the same hazard.
 */
export class AutoHazardReconciler {
  readonly #log: Logger;

  constructor(
    private readonly ledger: HazardLedger,
    private readonly settings: SupervisionSettings,
    private readonly deps: SourceDeps,
    logger: Logger,
  ) {
    this.#log = logger.child({ module: 'auto-hazards' });
  }

  async reconcile(county: string, now: number): Promise<ReconcileResult> {
    const result: ReconcileResult = { opened: 0, causesCleared: 0, causesReturned: 0, skipped: [], failed: [] };
    const { sources } = await this.settings.get(county, 'sources');
    for (const config of sources) {
      // A source switched off leaves its open hazards to people: nothing is opened or cleared.
      if (!config.enabled) continue;
      const source = createSource(config, this.deps);
      let seen: Awaited<ReturnType<typeof source.scan>>;
      try {
        seen = await source.scan(now, county);
      } catch (err) {
        this.#log.error({ err, source: config.id }, 'automatic hazard source failed; its hazards are left as they are');
        result.failed.push(config.id);
        continue;
      }
      if (seen === undefined) {
        result.skipped.push(config.id);
        continue;
      }
      const open = await this.ledger.openAutoHazards(county, config.id);
      const openByCause = new Map(open.map((h) => [h.causeKey, h]));
      const seenCauses = new Set<string>();
      for (const o of seen) {
        seenCauses.add(o.cause);
        const existing = openByCause.get(o.cause);
        try {
          if (!existing) {
            const owner = await this.ledger.ownerFor(o.institution, config.ownerRole);
            const { created } = await this.ledger.open(
              {
                institution: o.institution,
                category: config.category,
                severity: config.severity,
                source: 'auto',
                sourceRule: config.id,
                causeKey: o.cause,
                title: config.title.zh,
                description: o.description,
                evidence: { ...o.evidence, since: o.since },
                location: o.location,
                ...(owner ? { ownerContactId: owner.contactId, deadlineAt: now + config.deadlineDays * DAY_MS } : {}),
                note: '平台自动发现',
                foundAt: now,
              },
              SYSTEM_ACTOR,
            );
            if (created) result.opened++;
          } else if (existing.causeClearedAt !== null) {
            await this.ledger.causeReturned(existing.id, now);
            result.causesReturned++;
          }
        } catch (err) {
          this.#log.error({ err, cause: o.cause }, 'could not record an automatic hazard');
        }
      }
      for (const h of open) {
        if (h.causeKey === null || seenCauses.has(h.causeKey) || h.causeClearedAt !== null) continue;
        try {
          await this.ledger.causeCleared(h.id, now);
          result.causesCleared++;
        } catch (err) {
          // Closed or changed by a person meanwhile: the next scan sees the new state.
          if (!(err instanceof SupervisionError)) throw err;
        }
      }
    }
    if (result.opened || result.causesCleared || result.causesReturned) {
      this.#log.info({ county, ...result }, 'automatic hazards reconciled');
    }
    return result;
  }
}
