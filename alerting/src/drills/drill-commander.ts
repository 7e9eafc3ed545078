import type { GatewayAddress } from '@anlian/protocol';
import type { Logger } from 'pino';
import type { GatewayCommands } from '../commands/gateway-commands.js';
import { type Drill, type DrillGatewayCommand, drillActive } from './drill.js';

export interface DrillCommanderOptions {
  /** Where commands go; without it (no broker access) drills are not announced to gateways. */
  commands: GatewayCommands | undefined;
  /** An institution's enabled gateways (the registry). */
  gateways: (institution: string) => readonly GatewayAddress[];
  /** Persists one answer (the service's serial writer, so it is ordered with the rest). */
  record: (drillId: string, answer: DrillGatewayCommand) => void;
  logger: Logger;
  clock: () => number;
  /** How long a gateway has to answer. Default 10 s. */
  timeoutMs?: number;
  /**
   * Whether this node acts for the institution (issue 12: partitions of alerting nodes). Only
   * the holder of an institution's partition commands its gateways; the others leave it to
   * that node's next tick. Default: every institution.
   */
  actsFor?: (institution: string) => boolean;
}

type Command = DrillGatewayCommand['command'];

/**
 * Starts and stops drills at the gateways they cover (issue 13): `cmd/drill-start` (args: the
 * drill id, and `until` its planned end, so a gateway that never hears the stop still leaves drill
 * mode) when a drill starts, `cmd/drill-stop` when it ends or its window passes. Each gateway's
 * answer is kept (`answers`) and recorded. `sync` is idempotent: each command goes once per
 * gateway and drill, also across restarts (`load` the recorded answers first).
 */
export class DrillCommander {
  readonly #o: DrillCommanderOptions;
  readonly #log: Logger;
  /** drill id → `${command}/${gateway}` → latest answer. */
  readonly #answers = new Map<string, Map<string, DrillGatewayCommand>>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(o: DrillCommanderOptions) {
    this.#o = o;
    this.#log = o.logger.child({ module: 'drill-commander' });
  }

  load(recorded: ReadonlyMap<string, readonly DrillGatewayCommand[]>): void {
    this.#answers.clear();
    for (const [drill, list] of recorded) {
      const byKey = new Map<string, DrillGatewayCommand>();
      for (const g of list) byKey.set(`${g.command}/${g.gateway}`, g);
      this.#answers.set(drill, byKey);
    }
  }

  /** What the drill's gateways answered, gateway by gateway (start, then stop). */
  answers(drillId: string): DrillGatewayCommand[] {
    return [...(this.#answers.get(drillId)?.values() ?? [])].sort(
      (a, b) => a.gateway.localeCompare(b.gateway) || a.command.localeCompare(b.command),
    );
  }

  /** Sends what is due: a start to the gateways of running drills, a stop to those of ended ones. */
  sync(drills: readonly Drill[], now: number): void {
    if (!this.#o.commands) return;
    for (const d of drills) {
      const running = drillActive(d, now);
      const over = now >= (d.endedAt ?? d.endsAt);
      if (running) this.#sendAll(d, 'drill-start', { drill: d.id, until: d.endsAt });
      // Only gateways that were asked to start are asked to stop.
      else if (over && this.#answers.has(d.id)) this.#sendAll(d, 'drill-stop', undefined);
    }
  }

  /** Resolves when every command sent so far has its answer (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #sendAll(d: Drill, command: Command, args: Record<string, unknown> | undefined): void {
    const commands = this.#o.commands;
    if (!commands) return;
    let answers = this.#answers.get(d.id);
    for (const institution of d.institutions) {
      if (this.#o.actsFor && !this.#o.actsFor(institution)) continue;
      for (const target of this.#o.gateways(institution)) {
        const key = `${command}/${target.gateway}`;
        if (answers?.has(key)) continue;
        if (command === 'drill-stop' && !answers?.has(`drill-start/${target.gateway}`)) continue;
        if (!answers) {
          answers = new Map();
          this.#answers.set(d.id, answers);
        }
        const sent = this.#note(d.id, answers, { gateway: target.gateway, institution, command, state: 'sent' });
        const done: Promise<void> = commands
          .send(target, command, args, this.#o.timeoutMs === undefined ? {} : { timeoutMs: this.#o.timeoutMs })
          .then(
            (reply) => {
              this.#note(d.id, sent, {
                gateway: target.gateway,
                institution,
                command,
                state: reply.ok ? 'confirmed' : 'refused',
                ...(reply.detail !== undefined ? { detail: reply.detail } : {}),
              });
            },
            (err: unknown) => {
              this.#log.warn(
                { drill: d.id, gateway: target.gateway, command, err: (err as Error).message },
                'no answer',
              );
              this.#note(d.id, sent, {
                gateway: target.gateway,
                institution,
                command,
                state: 'no_reply',
                detail: (err as Error).message,
              });
            },
          )
          .finally(() => this.#inflight.delete(done));
        this.#inflight.add(done);
      }
    }
  }

  #note(
    drillId: string,
    answers: Map<string, DrillGatewayCommand>,
    a: Omit<DrillGatewayCommand, 'at'>,
  ): Map<string, DrillGatewayCommand> {
    const answer: DrillGatewayCommand = { ...a, at: this.#o.clock() };
    answers.set(`${a.command}/${a.gateway}`, answer);
    this.#o.record(drillId, answer);
    if (a.state !== 'sent') this.#log.info({ drill: drillId, ...a }, 'drill command answered');
    return answers;
  }
}
