/** What a batch of lines is: telemetry may be refused when the disk bound is reached; events never. */
export type LinePriority = 'event' | 'telemetry';

/**
 * The disk bound shared by the spools of one writer (one per retention policy). Telemetry that
 * does not fit is refused; events are always accepted, even beyond the bound, because an alarm
 * must never be dropped for lack of room that telemetry is using.
 */
export class SpoolBudget {
  private used = 0;
  private full = false;

  /**
   * @param onFullChange called on each transition into the full state (a telemetry append was
   *   refused) and out of it (usage fell below 90 % of the bound). The hysteresis keeps a spool
   *   hovering at the bound from logging on every append.
   */
  constructor(
    readonly maxBytes: number,
    private readonly onFullChange?: (full: boolean, usedBytes: number) => void,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  /** True from a refused telemetry append until usage falls below 90 % of the bound. */
  get isFull(): boolean {
    return this.full;
  }

  /** Reserves `bytes` for an append. False (and nothing reserved) when telemetry does not fit. */
  tryReserve(bytes: number, priority: LinePriority): boolean {
    if (priority === 'telemetry' && this.used + bytes > this.maxBytes) {
      this.setFull(true);
      return false;
    }
    this.used += bytes;
    return true;
  }

  /** Accounts bytes that are already on disk (found at open). */
  add(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    if (this.full && this.used < this.maxBytes * 0.9) this.setFull(false);
  }

  private setFull(full: boolean): void {
    if (this.full === full) return;
    this.full = full;
    this.onFullChange?.(full, this.used);
  }
}
