import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecodedMessage } from '@anlian/protocol';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { SimCliOptions } from '../src/cli.js';
import type { FaultFired } from '../src/generator/sim-step.js';
import { CountySimulator } from '../src/runner/county-simulator.js';
import { defineScenario } from '../src/scenario/load-scenario.js';
import { runSimCommand } from '../src/sim-command.js';
import { DAY_START, demoSubset, HOUR, MINUTE, startBroker, subscribeAll, until } from './support.js';

function collector(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (c: string) => chunks.push(c), text: () => chunks.join(''), chunks };
}

const statusesOf = (messages: DecodedMessage[], gateway: string) =>
  messages.flatMap((m) => (m.type === 'status' && m.topic.gateway === gateway ? [m.payload] : []));

describe('CountySimulator against a real broker', () => {
  it('connects every gateway with its own credentials and publishes valid messages, then shuts down cleanly', async () => {
    const county = await demoSubset(3);
    const broker = await startBroker(county);
    const observer = await subscribeAll(broker.url);
    const out = collector();
    const sim = new CountySimulator({
      county,
      brokerUrl: broker.url,
      seed: 4,
      speed: 120,
      startMs: DAY_START + 11 * HOUR,
      durationMs: 4 * MINUTE,
      output: out,
      progressIntervalMs: 100,
    });
    onTestFinished(async () => {
      await sim.stop();
    });
    const connected: string[] = [];
    sim.on('connected', (g) => connected.push(g));
    let published = 0;
    sim.on('publish', () => published++);
    await sim.start();
    const gateways = county.institutions.flatMap((i) => i.gateways.map((g) => g.id));
    const summary = await sim.done;
    expect(summary.reason).toBe('duration');
    expect(summary.errors).toEqual([]);
    expect(connected.sort()).toEqual(gateways.sort());
    expect(summary.failed).toBe(0);
    expect(summary.acked).toBe(summary.sent);
    expect(published).toBe(summary.sent);
    expect(summary.byType.telemetry).toBeGreaterThan(100);
    expect(summary.byType.heartbeat).toBeGreaterThanOrEqual(gateways.length * 7);
    // Everything sent reached the county side and decodes with the contract.
    await until(() => observer.messages.length >= summary.sent, 'all messages at the observer');
    expect(observer.rejected).toEqual([]);
    expect(observer.messages).toHaveLength(summary.sent);
    expect(broker.refused).toEqual([]);
    for (const gw of gateways) {
      const statuses = statusesOf(observer.messages, gw);
      expect(statuses.map((s) => `${s.state}/${s.reason}`)).toEqual(['online/connect', 'offline/shutdown']);
    }
    // Publishers are the gateways themselves: client id = gateway id = topic's gateway.
    for (const p of broker.published.filter((x) => x.topic.startsWith('anlian/'))) {
      expect(p.topic.split('/')[4]).toBe(p.clientId);
    }
    // Non-TTY progress: plain lines, then the summary.
    expect(out.text()).toMatch(/gateways \d+\/5 \| sent [\d,]+ \(\d[\d,]*\/s\) \| faults 0\/0 \| errors 0\n/);
    expect(out.text()).not.toContain('\r');
    expect(out.text()).toContain('Simulation summary (duration reached)');
    expect(out.text()).toMatch(/messages\s+[\d,]+ sent/);
  });

  it('gateway-drop kills the TCP connection so that the broker publishes the will; the gateway comes back', async () => {
    const county = await demoSubset(2);
    const broker = await startBroker(county);
    const observer = await subscribeAll(broker.url);
    const gateway = county.institutions[1]?.gateways[0]?.id ?? '';
    const faults: FaultFired[] = [];
    const sim = new CountySimulator({
      county,
      brokerUrl: broker.url,
      speed: 60,
      startMs: DAY_START + 8 * HOUR,
      untilScenarioEnd: true,
      // 5 s of real time after the drop ends: the gateway's reconnect (mqtt.js, every 2 s real)
      // must land before the run ends even on a loaded CI machine, or there is no second online.
      settleMs: 300_000,
      scenario: defineScenario({
        title: { zh: '断线', en: 'Drop' },
        description: { zh: '断线', en: 'Drop' },
        faults: [{ type: 'gateway-drop', at: '30s', for: '45s', target: { gateway } }],
      }),
      onFault: (f) => faults.push(f),
    });
    onTestFinished(async () => {
      await sim.stop();
    });
    await sim.start();
    await until(() => statusesOf(observer.messages, gateway).some((s) => s.reason === 'will'), 'the last will');
    const summary = await sim.done;
    expect(summary.reason).toBe('scenario-end');
    expect(summary.drops).toBe(1);
    expect(faults.map((f) => `${f.id} ${f.phase}`)).toEqual(['gateway-drop-0 start', 'gateway-drop-0 end']);
    expect(faults[0]?.targets).toEqual([{ institution: county.institutions[1]?.id, gateway }]);
    await until(() => statusesOf(observer.messages, gateway).length >= 4, 'the shutdown status');
    const statuses = statusesOf(observer.messages, gateway);
    expect(statuses.map((s) => `${s.state}/${s.reason}`)).toEqual([
      'online/connect',
      'offline/will',
      'online/connect',
      'offline/shutdown',
    ]);
    // The will was fixed at CONNECT: it carries the first online status's seq and time.
    expect(statuses[1]).toMatchObject({ seq: statuses[0]?.seq, ts: statuses[0]?.ts });
    // Retained, so a dashboard that subscribes later still sees the gateway offline.
    const will = broker.published.find(
      (p) => p.topic.endsWith(`${gateway}/status`) && p.payload.toString().includes('"will"'),
    );
    expect(will?.retain).toBe(true);
    // The other gateway never dropped.
    const other = county.institutions[0]?.gateways[0]?.id ?? '';
    expect(statusesOf(observer.messages, other).map((s) => s.reason)).toEqual(['connect', 'shutdown']);
    expect(observer.rejected).toEqual([]);
  });

  it('counts a refused gateway as an error and keeps the others running', async () => {
    const county = await demoSubset(2);
    const broker = await startBroker(county);
    const bad = county.institutions[0]?.gateways[0]?.id ?? '';
    const sim = new CountySimulator({
      county,
      brokerUrl: broker.url,
      speed: 60,
      startMs: DAY_START,
      durationMs: MINUTE,
      credentials: (gw) => ({ username: gw.id, password: gw.id === bad ? 'wrong-secret-123' : (gw.secret ?? '') }),
      mqtt: { reconnectPeriodMs: 60_000 },
    });
    onTestFinished(async () => {
      await sim.stop();
    });
    await sim.start();
    const summary = await sim.done;
    expect(broker.refused).toContain(bad);
    expect(summary.connectErrors).toBeGreaterThanOrEqual(1);
    expect(
      summary.errors.some(
        (e) => /not authori[sz]ed|bad user ?name or password/i.test(e.message) && e.gateways.includes(bad),
      ),
    ).toBe(true);
    expect(summary.errors.flatMap((e) => e.gateways)).toEqual([bad]);
    expect(summary.acked).toBeGreaterThan(0);
  });

  it('tries again, as a real gateway does, when the broker refuses a CONNECT for the moment', async () => {
    const county = await demoSubset(2);
    const busy = county.institutions[0]?.gateways[0]?.id ?? '';
    const broker = await startBroker(county, { unavailableOnce: [busy] });
    const sim = new CountySimulator({
      county,
      brokerUrl: broker.url,
      speed: 60,
      startMs: DAY_START,
      durationMs: 10 * MINUTE,
      mqtt: { reconnectPeriodMs: 200 },
    });
    onTestFinished(async () => {
      await sim.stop();
    });
    await sim.start();
    const summary = await sim.done;
    expect(broker.refused).toEqual([busy]);
    expect(summary.connectErrors).toBe(1);
    // It came back, said it is online on its own connection (the county would count it offline
    // otherwise), and published.
    const ownStatuses = broker.published
      .filter((m) => m.clientId === busy && m.topic.endsWith('/status'))
      .map((m) => (JSON.parse(m.payload.toString('utf8')) as { state: string }).state);
    expect(ownStatuses).toContain('online');
    expect(broker.published.some((m) => m.clientId === busy && !m.topic.endsWith('/status'))).toBe(true);
  });

  it('`drill` runs a scenario file end to end and prints the summary', async () => {
    const county = await demoSubset(1);
    const broker = await startBroker(county);
    const dir = await mkdtemp(join(tmpdir(), 'anlian-sim-'));
    onTestFinished(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    await writeFile(join(dir, 'county.json'), JSON.stringify(county));
    await writeFile(
      join(dir, 'drill.yaml'),
      `title: { zh: 演练, en: Drill }
description: { zh: 演练, en: Drill }
settle: 20s
faults:
  - { type: fire-alarm, at: 20s, target: { institution: yy-fuli-zhongxin, kind: fire, floor: 2F }, restoreAfter: 30s }
  - { type: camera, at: 40s, target: { institution: yy-fuli-zhongxin }, fault: black, for: 20s }
`,
    );
    const stdout = collector();
    const stderr = collector();
    const opts: SimCliOptions = {
      county: join(dir, 'county.json'),
      broker: broker.url,
      speed: 120,
      scenario: join(dir, 'drill.yaml'),
      start: '2026-11-23T09:00+08:00',
      naturalFaults: false,
      logLevel: 'silent',
      // A bare broker, no county behind it to register the drill with.
      register: false,
    };
    const code = await runSimCommand(opts, 'drill', { stdout, stderr, now: Date.now });
    expect(stderr.text()).toBe('');
    expect(code).toBe(0);
    const text = stdout.text();
    expect(text).toContain('simulated start 2026-11-23 09:00:00 (Asia/Shanghai), ×120, seed 1');
    expect(text).toContain('Simulation summary (scenario finished)');
    expect(text).toContain('faults     2 of 2 fired');
    expect(text).toMatch(/09:00:20 {2}start {2}fire-alarm-0/);
    expect(text).toContain('errors     none');

    const bad = await runSimCommand({ ...opts, scenario: join(dir, 'missing.yaml') }, 'drill', {
      stdout,
      stderr,
      now: Date.now,
    });
    expect(bad).toBe(2);
    expect(stderr.text()).toContain('ANL_SIM_SCENARIO_INVALID');
  });
});
