/** A county drill (应急演练) running at this gateway, from `cmd/drill-start`. */
export interface Drill {
  id: string;
  since: number;
  /** The devices the drill covers; every device when left out. */
  devices?: readonly string[];
  /** When the drill mode ends by itself (epoch ms), should `drill-stop` never arrive. */
  until?: number;
}

/**
 * Whether a county drill is running. The gateway tells its local alarm outputs, so a site can
 * sound a drill tone instead of the evacuation siren, reports it in snapshots, and stamps the
 * events of the drill's devices with its id (protocol `drillId`): the county tags an alert as a
 * drill only when its event carries the id of a drill running for the institution (issue 13).
 */
export class DrillMode {
  #current: Drill | undefined;

  /** The drill in force at `now` (one past its `until` is over). */
  current(now: number): Drill | undefined {
    const d = this.#current;
    if (d?.until !== undefined && now >= d.until) this.#current = undefined;
    return this.#current;
  }

  start(drill: Drill): void {
    this.#current = drill;
  }

  stop(): Drill | undefined {
    const was = this.#current;
    this.#current = undefined;
    return was;
  }

  /** The drill id to stamp on an event of `device` at `now`, if the drill covers it. */
  drillIdFor(device: string, now: number): string | undefined {
    const d = this.current(now);
    if (!d) return undefined;
    return d.devices === undefined || d.devices.includes(device) ? d.id : undefined;
  }
}
