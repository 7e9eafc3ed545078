import { randomBytes } from 'node:crypto';

/**
 * Ids that sort by creation time (so the store pages by id) and are unique across replicas:
 * `prefix_` + 9 base-36 digits of ms + 8 random hex digits.
 */
export function newId(prefix: string, at: number): string {
  return `${prefix}_${Math.max(0, Math.trunc(at)).toString(36).padStart(9, '0')}${randomBytes(4).toString('hex')}`;
}
