import { type CommandName, type CommandPayload, DrillId, SegmentId } from '@anlian/protocol';
import { z } from 'zod';
import type { DutyCheckRequest, DutyCheckResult } from '../adapters/duty-check.js';
import type { Clock } from '../clock.js';
import type { CommandOutcome } from '../uplink/county-uplink.js';
import type { DrillMode } from './drill-mode.js';

export interface CountyCommandDeps {
  /** Re-reads the configuration and applies it (queued messages are kept). */
  reload: () => Promise<CommandOutcome>;
  drill: DrillMode;
  clock: Clock;
  /** Queue, link and adapter figures for `snapshot`. */
  snapshot: () => Record<string, unknown>;
  /** Duty checks through every adapter that can put them (fire panels); undefined when none can. */
  dutyCheck: (request: DutyCheckRequest) => Promise<DutyCheckResult[]> | undefined;
}

/**
 * `cmd/drill-start` arguments: the county's drill id (stamped on events as `drillId`, so it must
 * be one), optionally the devices it covers and when it ends by itself.
 */
const DrillStartArgs = z.object({
  drill: DrillId,
  devices: z.array(SegmentId).min(1).max(10_000).optional(),
  until: z.number().int().positive().optional(),
});

/** GB/T 26875.3 §8.3.2.16: the UITD keeps its duty-check prompt up to 10 minutes: the default window. */
export const DEFAULT_DUTY_CHECK_WINDOW_S = 600;

/** The county's commands (`…/cmd/{name}`): ping, reload, drill-start, drill-stop, snapshot, duty-check. */
export function countyCommands(
  deps: CountyCommandDeps,
): (name: CommandName, cmd: CommandPayload) => Promise<CommandOutcome> {
  return async (name, cmd) => {
    switch (name) {
      case 'ping':
        return { ok: true, detail: 'pong' };
      case 'reload':
        return deps.reload();
      case 'drill-start': {
        const args = DrillStartArgs.safeParse(cmd.args ?? {});
        if (!args.success) {
          return { ok: false, detail: `bad drill-start args: ${args.error.issues.map((i) => i.message).join('; ')}` };
        }
        const { drill: id, devices, until } = args.data;
        deps.drill.start({
          id,
          since: deps.clock.now(),
          ...(devices ? { devices } : {}),
          ...(until !== undefined ? { until } : {}),
        });
        return { ok: true, detail: `drill ${id} started${devices ? ` for ${devices.length} devices` : ''}` };
      }
      case 'drill-stop': {
        const was = deps.drill.stop();
        return was ? { ok: true, detail: `drill ${was.id} stopped` } : { ok: true, detail: 'no drill was running' };
      }
      case 'snapshot':
        return { ok: true, result: deps.snapshot() };
      case 'duty-check': {
        const w = cmd.args?.answerWindowS;
        const windowS =
          typeof w === 'number' && Number.isFinite(w) && w >= 1 && w <= 3600 ? w : DEFAULT_DUTY_CHECK_WINDOW_S;
        const device = typeof cmd.args?.device === 'string' ? cmd.args.device : undefined;
        const pending = deps.dutyCheck({ answerWindowMs: windowS * 1000, ...(device ? { device } : {}) });
        if (!pending) return { ok: false, detail: 'this gateway has no fire panel (GB/T 26875.3) adapter' };
        const checks = await pending;
        if (checks.length === 0) return { ok: false, detail: `no UITD${device ? ` reports as ${device}` : ''}` };
        const delivered = checks.filter((c) => c.delivered);
        const answered = checks.filter((c) => c.answered);
        const detail = checks.map((c) => `${c.device}: ${c.detail}`).join('; ');
        // ok: the check reached a UITD; whether anybody answered is the result, not an error.
        return {
          ok: delivered.length > 0,
          detail,
          result: { answered: delivered.length > 0 && answered.length === delivered.length, checks },
        };
      }
      default: {
        const never: never = name;
        return { ok: false, detail: `unknown command ${String(never)}` };
      }
    }
  };
}
