import { randomBytes } from 'node:crypto';

/**
 * Ids that sort by creation time and are unique across dashboard nodes: `prefix_` + 9 base-36
 * digits of ms + 8 random hex digits (alerting's scheme). `random` makes them reproducible for
 * the demo's generated history.
 */
export function newId(prefix: string, at: number, random?: () => number): string {
  const tail = random
    ? Math.floor(random() * 0x1_0000_0000)
        .toString(16)
        .padStart(8, '0')
    : randomBytes(4).toString('hex');
  return `${prefix}_${Math.max(0, Math.trunc(at)).toString(36).padStart(9, '0')}${tail}`;
}
