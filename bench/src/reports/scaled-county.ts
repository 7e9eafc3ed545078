import { CountyConfig } from '@anlian/protocol';

/**
 * The demo county grown (or cut) to `n` institutions: its institutions repeated with new ids
 * (`yy-longtan-2`, gateway `gw-yy-longtan-1-2`), each with its devices and contacts — the
 * demo's shape (~70 devices per institution) at a large county's size.
 */
export function scaledCounty(demo: CountyConfig, n: number): CountyConfig {
  const institutions = Array.from({ length: n }, (_, i) => {
    const src = demo.institutions[i % demo.institutions.length];
    if (!src) throw new Error('the demo county has no institutions');
    const k = Math.floor(i / demo.institutions.length);
    const suffix = k === 0 ? '' : `-${k + 1}`;
    return {
      ...src,
      id: `${src.id}${suffix}`,
      name: k === 0 ? src.name : `${src.name}（${k + 1}）`,
      gateways: src.gateways.map((g) => ({ ...g, id: `${g.id}${suffix}` })),
    };
  });
  return CountyConfig.parse({ ...demo, institutions });
}
