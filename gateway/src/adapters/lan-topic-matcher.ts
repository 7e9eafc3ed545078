import type { LanTopicMapping } from '../config/gateway-config.js';

export interface LanTopicMatch {
  mapping: LanTopicMapping;
  device: string;
}

/**
 * Matches LAN topics against the configured mappings: literal levels, `+` for any one level,
 * `{device}` for the level that names the device. First matching mapping wins.
 */
export class LanTopicMatcher {
  readonly #patterns: { mapping: LanTopicMapping; levels: string[] }[];

  constructor(mappings: readonly LanTopicMapping[]) {
    this.#patterns = mappings.map((mapping) => ({ mapping, levels: mapping.topic.split('/') }));
  }

  match(topic: string): LanTopicMatch | undefined {
    const levels = topic.split('/');
    for (const { mapping, levels: pattern } of this.#patterns) {
      if (pattern.length !== levels.length) continue;
      let device: string | undefined;
      let ok = true;
      for (let i = 0; i < pattern.length && ok; i++) {
        const p = pattern[i];
        const l = levels[i] as string;
        if (p === '{device}') device = l;
        else if (p !== '+' && p !== l) ok = false;
      }
      if (ok && device !== undefined && device.length > 0) return { mapping, device };
    }
    return undefined;
  }
}
