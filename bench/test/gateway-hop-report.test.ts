import { CountyConfig } from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { parseAlarmBenchOptions } from '../src/alarm-latency/alarm-options.js';
import type { PathLatency } from '../src/alarm-latency/alarm-report.js';
import { buildHopCounty, HOP_COUNTY } from '../src/alarm-latency/gateway-hop.js';
import type { HopProbeRecord } from '../src/alarm-latency/gateway-hop-messages.js';
import {
  type GatewayHopReport,
  judgeHopTargets,
  measureHops,
  type ProbeOutcome,
  renderGatewayHop,
} from '../src/alarm-latency/gateway-hop-report.js';

const probe = (device: string, t0: number, lanAck: number, lan: number, county: number): HopProbeRecord => ({
  gateway: 'gw-g-0001',
  device,
  publishedAt: t0,
  lanAckedAt: lanAck && t0 + lanAck,
  lanDeliveredAt: lan && t0 + lan,
  countyDeliveredAt: county && t0 + county,
});

const path = (what: string, p99: number, max: number, count = 10, missing = 0): PathLatency => ({
  what,
  count,
  p50: 1,
  p99,
  max,
  missing,
});

describe('bench:alarm-latency --via-gateway', () => {
  it('is off by default and parsed with either form', () => {
    const plain = parseAlarmBenchOptions(['--quick']);
    expect(plain !== 'help' && plain.viaGateway).toBe(false);
    const services = parseAlarmBenchOptions(['--quick', '--form', 'services', '--via-gateway']);
    expect(services).toMatchObject({ viaGateway: true, form: 'services', rate: 2000, durationS: 15 });
    expect(parseAlarmBenchOptions(['--via-gateway'])).toMatchObject({ viaGateway: true, form: 'all-in-one' });
    expect(() => parseAlarmBenchOptions(['--via-gateway=yes'])).toThrow();
  });

  it('registers one gateway with a detector per possible alarm and the secret it logs in with', () => {
    const hop = buildHopCounty(250);
    const county = CountyConfig.parse(hop.county);
    expect(county.county.id).toBe(HOP_COUNTY.id);
    expect(hop.gateways).toHaveLength(1);
    expect(hop.gateways[0]?.detectors).toHaveLength(250);
    const gateway = county.institutions[0]?.gateways[0];
    expect(gateway?.id).toBe('gw-g-0001');
    expect(gateway?.secret?.length).toBeGreaterThanOrEqual(12);
    // Its institution is not one of the direct probes' (`a-0001` …): ids are unique in the registry.
    expect(county.institutions.map((i) => i.id)).toEqual(['g-0001']);
  });

  it('measures each hop per probe, a missing stamp as ∞, and the forward before the fsync as negative', () => {
    const t0 = 1_000_000;
    const probes = [
      probe('fd001', t0, 9, 10, 6), // forwarded 4 ms before the LAN subscriber saw it
      probe('fd002', t0 + 500, 3, 4, 8),
      probe('fd003', t0 + 1000, 3, 4, 0), // never at the county
    ];
    const outcomes: Record<string, ProbeOutcome> = {
      fd001: { openedAt: t0 + 7, raisedAt: t0 + 9, pushedAt: t0 + 12 },
      fd002: { openedAt: t0 + 510, raisedAt: t0 + 512, pushedAt: undefined },
    };
    const { hops, samples } = measureHops(probes, (_gw, device) => outcomes[device]);
    expect(hops.lanToCounty).toMatchObject({ count: 3, missing: 1, p50: 4, max: Infinity });
    expect(samples[0]).toMatchObject({ lanAck: 9, lan: 10, county: 6, ingest: 7, raised: 9, pushed: 12 });
    expect(hops.countyToRaised).toMatchObject({ missing: 1, p50: 4, max: Infinity });
    expect(hops.raisedToPushed).toMatchObject({ missing: 2, p50: Infinity });
    expect(hops.deviceToPushed).toMatchObject({ count: 3, missing: 2, p50: Infinity });
    expect(hops.deviceToLan).toMatchObject({ missing: 0, p50: 4, max: 10 });
    // fd001 alone: the forward reached the county subscriber 4 ms before the LAN subscriber saw it.
    expect(measureHops(probes.slice(0, 1), (_gw, device) => outcomes[device]).hops.lanToCounty.p50).toBe(-4);
  });

  it('judges issue 12: direct publish → push p99 ≤ 30 and max ≤ 100 ms, device → push p99 ≤ 60 ms', () => {
    const { hops } = measureHops([], () => undefined);
    const ok = judgeHopTargets({ ...hops, deviceToPushed: path('d', 60, 500) }, { pushed: path('c', 30, 100) });
    expect(ok.map((v) => v.verdict)).toEqual(['PASS', 'PASS', 'PASS']);
    const late = judgeHopTargets({ ...hops, deviceToPushed: path('d', 61, 61) }, { pushed: path('c', 31, 101) });
    expect(late.map((v) => v.verdict)).toEqual(['FAIL', 'FAIL', 'FAIL']);
    // No probe at all is not a pass.
    const none = judgeHopTargets(hops, { pushed: path('c', Number.NaN, Number.NaN, 0) });
    expect(none.map((v) => v.verdict)).toEqual(['FAIL', 'FAIL', 'FAIL']);
  });

  it('prints each hop next to the broker’s own latency, and the verdicts', () => {
    const t0 = 2_000_000;
    const { hops, samples } = measureHops([probe('fd001', t0, 5, 6, 4)], () => ({
      openedAt: t0 + 6,
      raisedAt: t0 + 8,
      pushedAt: t0 + 20,
    }));
    const direct = { broker: path('a', 11, 12), raised: path('b', 20, 25), pushed: path('c', 25, 40) };
    const report: GatewayHopReport = {
      gateway: { id: 'gw-g-0001', command: [], nodeFlags: [], detectors: 1, description: 'gw-g-0001' },
      probes: { published: 1, lanAcked: 1, lanDelivered: 1, countyDelivered: 1, raised: 1, pushed: 1 },
      hops,
      direct,
      targets: judgeHopTargets(hops, direct),
      samples,
    };
    const text = renderGatewayHop(report);
    const row = (label: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(label))
        ?.trim()
        .split(/\s{2,}/);
    expect(row('1 device → gateway')?.slice(1)).toEqual(['1', '6', '6', '6', '0']);
    expect(row('2 gateway → county broker')?.slice(1)).toEqual(['1', '-2', '-2', '-2', '0']);
    expect(row('4 alerting → push')?.slice(1)).toEqual(['1', '12', '12', '12', '0']);
    expect(row('  device → first push')?.slice(1)).toEqual(['1', '20', '20', '20', '0']);
    expect(row('(a) county broker publish → plain subscriber')?.slice(1)).toEqual(['10', '1', '11', '12', '0']);
    expect(text).toMatch(
      /device → first push through the gateway: p99 ≤ 60 ms\s+20 ms \(1 probes via the gateway\)\s+PASS/,
    );
    // Without --failover the run has no failover figure, and says so; with it, its verdict is the row.
    expect(text).toMatch(/killing the active alerting replica .* not measured in this run \(--failover\)\s+—/);
    const failover = {
      target: 'killing the active alerting replica → first push ≤ 5,000 ms',
      measured: '812 ms (21 alarms …)',
      verdict: 'PASS',
    } as const;
    expect(renderGatewayHop(report, failover)).toMatch(
      /killing the active alerting replica → first push ≤ 5,000 ms\s+812 ms \(21 alarms …\)\s+PASS/,
    );
  });
});
