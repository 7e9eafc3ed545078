import { type CommandName, type CommandPayload, DrillId, SegmentId } from '@anlian/protocol';
import { z } from 'zod';
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

/** The county's commands (`…/cmd/{name}`): ping, reload, drill-start, drill-stop, snapshot. */
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
      default: {
        const never: never = name;
        return { ok: false, detail: `unknown command ${String(never)}` };
      }
    }
  };
}
