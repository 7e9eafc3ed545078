import type { CommandName, CommandPayload } from '@anlian/protocol';
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
        const id = typeof cmd.args?.drill === 'string' && cmd.args.drill.length > 0 ? cmd.args.drill : cmd.id;
        deps.drill.start(id, deps.clock.now());
        return { ok: true, detail: `drill ${id} started` };
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
