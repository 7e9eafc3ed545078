import type { AlertingDatabase } from '@anlian/alerting';
import { migrateAlerting } from '@anlian/alerting';
import { migrateDashboard } from '@anlian/dashboard';
import { buildLoadCounty } from '@anlian/device-simulators';
import type { CountyConfig } from '@anlian/protocol';
import { type Database, importCountyConfig, migrateToLatest } from '@anlian/store';
import { migrateSupervision, type SupervisionDatabase, seededRandom } from '@anlian/supervision';
import type { Insertable, Kysely } from 'kysely';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HistorySpec {
  institutions: number;
  devicesPerInstitution: number;
  days: number;
  hazardsPerInstitution: number;
  alertsPerInstitutionPerDay: number;
  now: number;
}

export interface HistoryCounts {
  institutions: number;
  devices: number;
  alerts: number;
  hazards: number;
  transitions: number;
  countyInputs: number;
  inspections: number;
}

export const BENCH_COUNTY = 'benchcounty';

async function insertChunks<T>(
  rows: readonly T[],
  size: number,
  write: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size));
}

/**
 * A county of `institutions` with a month of history, as the grader and the hazard list meet it
 * in production: alerting's tables (fire alarms with verdicts, offline devices and gateways,
 * gauges out of range), the hazard ledger (hazards in every state with their transitions), the
 * county's complaints and violations, inspections. Rows go in through SQL in chunks — the
 * benchmark measures reading them, not writing them. Deterministic for a spec.
 */
export async function buildHistory(database: Kysely<Database>, spec: HistorySpec): Promise<HistoryCounts> {
  await migrateToLatest(database);
  await migrateAlerting(database);
  await migrateDashboard(database);
  await migrateSupervision(database);
  const random = seededRandom(`bench-supervision:${spec.institutions}:${spec.days}`);
  const load = buildLoadCounty({
    institutions: spec.institutions,
    devicesPerInstitution: spec.devicesPerInstitution,
    intervalS: 60,
    countyId: BENCH_COUNTY,
  });
  const county: CountyConfig = {
    ...load,
    institutions: load.institutions.map((i, n) => ({
      ...i,
      contacts: [
        { id: 'manager', name: `负责人${n + 1}`, role: 'manager', phone: `138${String(n).padStart(8, '0')}` },
        { id: 'county-duty', name: '县值班员', role: 'duty_officer', phone: '13800130001' },
      ],
    })),
  };
  await importCountyConfig(database, county, { now: spec.now - 400 * DAY });
  const start = spec.now - spec.days * DAY;
  const counts: HistoryCounts = {
    institutions: county.institutions.length,
    devices: county.institutions.reduce((s, i) => s + i.gateways.reduce((g, w) => g + w.devices.length, 0), 0),
    alerts: 0,
    hazards: 0,
    transitions: 0,
    countyInputs: 0,
    inspections: 0,
  };

  // —— alerting's tables: a month of alerts.
  const adb = database as unknown as Kysely<AlertingDatabase>;
  const alerts: Insertable<AlertingDatabase['alerts']>[] = [];
  const RULES: [rule: string, kind: string, share: number][] = [
    ['fire-alarm', 'fire', 0.2],
    ['device-offline', 'fire', 0.35],
    ['camera-offline', 'camera', 0.2],
    ['extinguisher-under-pressure', 'extinguisher', 0.15],
    ['gateway-offline', '', 0.1],
  ];
  for (const inst of county.institutions) {
    const gw = inst.gateways[0];
    if (!gw) continue;
    const total = Math.round(spec.alertsPerInstitutionPerDay * spec.days * (0.5 + random()));
    for (let k = 0; k < total; k++) {
      // A rule by its share: the first whose cumulative share passes a uniform draw.
      const u = random();
      let cumulative = 0;
      const [rule, kind] = RULES.find(([, , share]) => {
        cumulative += share;
        return u < cumulative;
      }) ??
        RULES[0] ?? ['fire-alarm', 'fire', 1];
      const device = kind === '' ? undefined : gw.devices.find((d) => d.kind === kind && random() < 0.2);
      const opened = start + random() * spec.days * DAY;
      const closed = opened + (rule === 'fire-alarm' ? 10 * 60_000 : random() * 2 * DAY);
      const isClosed = closed < spec.now;
      const id = `al_${inst.id}_${k}`;
      alerts.push({
        id,
        key: `${rule}:${gw.id}/${device?.id ?? '-'}`,
        open_key: isClosed ? null : `${id}`,
        rule,
        name_zh: rule,
        name_en: rule,
        severity: rule === 'fire-alarm' || rule === 'gateway-offline' ? 'critical' : 'major',
        resolve: rule === 'fire-alarm' ? 'manual' : 'auto',
        status: isClosed ? 'closed' : 'open',
        verdict:
          rule === 'fire-alarm' ? (random() < 0.7 ? 'false_alarm' : random() < 0.5 ? 'test' : 'real_fire') : null,
        drill_id: null,
        silence_id: null,
        county_id: BENCH_COUNTY,
        institution_id: inst.id,
        gateway_id: gw.id,
        device_id: device?.id ?? null,
        device_kind: device?.kind ?? null,
        value: null,
        reason: '基准测试',
        occurrences: 1,
        opened_at: Math.round(opened),
        last_seen_at: Math.round(opened),
        cleared_at: isClosed ? Math.round(closed) : null,
        acknowledged_at: null,
        acknowledged_by: null,
        verified_at: null,
        verified_by: null,
        closed_at: isClosed ? Math.round(closed) : null,
        closed_by: isClosed ? 'system' : null,
        escalation_level: 0,
        escalation_round: 0,
        escalation_state: 'stopped',
        escalation_next_at: null,
        updated_at: Math.round(isClosed ? closed : opened),
      });
    }
  }
  await insertChunks(alerts, 200, (c) => adb.insertInto('alerts').values(c).execute());
  counts.alerts = alerts.length;

  // —— the hazard ledger: hazards in every state, each with its transitions.
  const sdb = database as unknown as Kysely<SupervisionDatabase>;
  const hazards: Insertable<SupervisionDatabase['hazards']>[] = [];
  const transitions: Insertable<SupervisionDatabase['hazard_transitions']>[] = [];
  const STATUSES = ['assigned', 'rectifying', 'submitted', 'reviewed', 'closed', 'closed', 'closed'] as const;
  for (const inst of county.institutions) {
    for (let k = 0; k < spec.hazardsPerInstitution; k++) {
      const found = Math.round(start + random() * spec.days * DAY);
      const status = STATUSES[Math.floor(random() * STATUSES.length)] ?? 'assigned';
      const severity = random() < 0.12 ? 'major' : 'general';
      const deadline = found + (severity === 'major' ? 30 : 15) * DAY;
      const submitted = ['submitted', 'reviewed', 'closed'].includes(status) ? found + random() * 10 * DAY : null;
      const closed = status === 'closed' ? (submitted ?? found) + 2 * DAY : null;
      const id = `hz_${inst.id}_${k}`;
      const events: [string, string, number][] = [
        ['found', 'found', found],
        ['assigned', 'assigned', found],
      ];
      if (status !== 'assigned') events.push(['rectifying', 'rectifying', found + DAY]);
      if (submitted !== null) events.push(['submitted', 'submitted', Math.round(submitted)]);
      if (status === 'reviewed' || status === 'closed')
        events.push(['accepted', 'reviewed', Math.round((submitted ?? found) + DAY)]);
      if (closed !== null) events.push(['closed', 'closed', Math.round(closed)]);
      for (const [i, [event, to, at]] of events.entries()) {
        transitions.push({
          hazard_id: id,
          seq: i + 1,
          at,
          event,
          from_status: i === 0 ? null : (events[i - 1]?.[1] ?? null),
          to_status: to,
          actor: i === 0 ? 'operator' : 'load',
          role: 'county_operator',
          note: null,
          detail_json: null,
        });
      }
      hazards.push({
        id,
        county_id: BENCH_COUNTY,
        institution_id: inst.id,
        category: random() < 0.5 ? 'fire_facilities' : 'service_safety',
        severity,
        source: random() < 0.5 ? 'auto' : random() < 0.7 ? 'inspection' : 'manual',
        source_rule: null,
        cause_key: null,
        open_cause: null,
        item_ref: null,
        inspection_id: null,
        title: `基准隐患 ${k + 1}`,
        description: '基准测试生成的隐患描述，长度与真实记录相当：二层走廊灭火器压力指针在红区，需更换并复查。',
        evidence_json: '{}',
        location: '主楼 2F 走廊',
        status,
        owner_contact_id: 'manager',
        owner_name: '负责人',
        supervisor: 'operator',
        deadline_at: deadline,
        found_at: found,
        found_by: 'operator',
        assigned_at: found,
        rectifying_at: status === 'assigned' ? null : found + DAY,
        submitted_at: submitted === null ? null : Math.round(submitted),
        reviewed_at: status === 'reviewed' || status === 'closed' ? Math.round((submitted ?? found) + DAY) : null,
        closed_at: closed === null ? null : Math.round(closed),
        cause_cleared_at: null,
        overdue_at: null,
        escalation_count: 0,
        next_escalation_at: ['assigned', 'rectifying'].includes(status) ? deadline : null,
        reminded_at: null,
        generated: 'bench',
        seq: events.length,
        updated_at: events.at(-1)?.[2] ?? found,
      });
    }
  }
  await insertChunks(hazards, 100, (c) => sdb.insertInto('hazards').values(c).execute());
  await insertChunks(transitions, 200, (c) => sdb.insertInto('hazard_transitions').values(c).execute());
  counts.hazards = hazards.length;
  counts.transitions = transitions.length;

  // —— the county's inputs and inspections.
  const inputs: Insertable<SupervisionDatabase['county_inputs']>[] = [];
  const inspections: Insertable<SupervisionDatabase['inspections']>[] = [];
  county.institutions.forEach((inst, n) => {
    const complaints = Math.floor(random() * 3);
    for (let k = 0; k < complaints; k++) {
      const at = Math.round(start + random() * spec.days * DAY);
      inputs.push({
        id: `ci_${n}_${k}`,
        county_id: BENCH_COUNTY,
        institution_id: inst.id,
        kind: random() < 0.8 ? 'complaint' : 'violation',
        at,
        note: '家属投诉',
        recorded_by: 'operator',
        recorded_at: at,
        generated: 'bench',
      });
    }
    const at = Math.round(start + random() * spec.days * DAY);
    inspections.push({
      id: `insp_${n}`,
      county_id: BENCH_COUNTY,
      institution_id: inst.id,
      checklist_id: 'gb-38600-2019',
      checklist_version: 0,
      kind: 'routine',
      draw_id: null,
      inspector: 'operator',
      status: 'submitted',
      results_json: '{}',
      findings: Math.floor(random() * 3),
      summary: null,
      started_at: at,
      submitted_at: at + HOUR,
      generated: 'bench',
      updated_at: at + HOUR,
    });
  });
  await insertChunks(inputs, 200, (c) => sdb.insertInto('county_inputs').values(c).execute());
  await insertChunks(inspections, 200, (c) => sdb.insertInto('inspections').values(c).execute());
  counts.countyInputs = inputs.length;
  counts.inspections = inspections.length;
  return counts;
}
