import { LatestStateCache } from '@anlian/bus';
import { describe, expect, it } from 'vitest';
import { CountyLiveModel } from '../src/live/county-live-model.js';
import { DEFAULT_THRESHOLDS } from '../src/live/device-thresholds.js';
import type { RegistryView } from '../src/registry/registry-view.js';
import { statusEvent } from './dashboard-harness.js';

/** The registry as the model reads it: institutions' and gateways' names. */
function registry(gateways: Record<string, string | null>): RegistryView {
  return {
    snapshot: {
      institutions: new Map([['inst-a', { id: 'inst-a', name: '酉阳县社会福利中心' }]]),
      gateways: new Map(
        Object.entries(gateways).map(([id, name]) => [id, { id, institution: 'inst-a', name, enabled: true }]),
      ),
      devices: new Map(),
    },
  } as unknown as RegistryView;
}

const model = (gateways: Record<string, string | null>) =>
  new CountyLiveModel({
    registry: registry(gateways),
    cache: new LatestStateCache(),
    thresholds: DEFAULT_THRESHOLDS,
    clock: Date.now,
  });

describe('the wall ticker on a gateway going online or offline', () => {
  it('names which of the institution’s gateways, by its registered name without the institution’s', () => {
    const m = model({ 'gw-a-1': '酉阳县社会福利中心主楼网关', 'gw-a-2': '综合楼网关' });
    expect(m.tickerFor(statusEvent('inst-a', 'gw-a-1', 'online'))?.text).toEqual({
      zh: '酉阳县社会福利中心 主楼网关上线',
      en: '酉阳县社会福利中心 主楼网关 online',
    });
    expect(m.tickerFor(statusEvent('inst-a', 'gw-a-2', 'offline'))?.text.zh).toBe('酉阳县社会福利中心 综合楼网关离线');
  });

  it('says just 网关 for a gateway registered without a name, and never shows its id', () => {
    const m = model({ 'gw-a-1': null });
    const item = m.tickerFor(statusEvent('inst-a', 'gw-a-1', 'offline'));
    expect(item?.text).toEqual({ zh: '酉阳县社会福利中心 网关离线', en: '酉阳县社会福利中心 gateway offline' });
    expect(item?.text.zh).not.toContain('gw-');
    expect(m.tickerFor(statusEvent('inst-a', 'gw-unknown', 'online'))?.text.zh).toBe('酉阳县社会福利中心 网关上线');
  });
});
