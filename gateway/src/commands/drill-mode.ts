/**
 * Whether a county drill (应急演练) is running. The gateway tells its local alarm outputs, so a
 * site can sound a drill tone instead of the evacuation siren, and reports it in snapshots.
 */
export class DrillMode {
  #current: { id: string; since: number } | undefined;

  get current(): { id: string; since: number } | undefined {
    return this.#current;
  }

  start(id: string, now: number): void {
    this.#current = { id, since: now };
  }

  stop(): { id: string; since: number } | undefined {
    const was = this.#current;
    this.#current = undefined;
    return was;
  }
}
