import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { chinaStartOfDay } from '../china-time.js';
import type { Actor, Hazard, HazardSeverity } from '../hazards/hazard.js';
import { escalateEveryMs } from '../hazards/ledger-policy.js';
import { seededRandom } from '../seeded-random.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import { buildSupervision } from '../supervision.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface DemoSeedResult {
  /** False when the county had supervision records already (nothing was generated). */
  seeded: boolean;
  /** `demo-seed-<seed>`: the marker on every generated record. */
  marker: string;
  hazards: number;
  inspections: number;
  countyInputs: number;
  days: number;
}

/** The county's staff who did the work in the generated history (the demo's logins). */
const OPERATOR: Actor = { name: 'operator', role: 'county_operator' };
const manager = (institution: string): Actor => ({ name: institution, role: 'institution_manager' });

/** What a finding on each checklist item looked like. */
const FINDING_NOTES: Record<string, string[]> = {
  M4: ['夜间防火巡查记录缺失近一周', '巡查记录为补填'],
  M5: ['二层两具灭火器压力指针在红区', '火灾报警控制器有3个探测器处于屏蔽状态'],
  M6: ['二层东侧安全出口被链条锁住', '一层疏散走道堆放被褥和纸箱'],
  M7: ['楼梯间停放电动自行车并充电', '老人居室内使用电热毯且无人看管'],
  M8: ['厨房液化气钢瓶未设可燃气体报警装置'],
  M9: ['本年度无应急演练记录'],
  S2: ['在住老人超出备案床位4人'],
  S4: ['夜间仅1名护理员值守两层楼'],
  C1: ['进食照看人员不足，吞咽困难老人无专人照看'],
  C2: ['药品与食品混放', '药品发放无核对记录'],
  C3: ['卧床老人翻身记录不全'],
  C4: ['热水器出水温度过高，未设防烫措施'],
  C5: ['有坠床风险的老人床位未装护栏'],
  C6: ['卫生间未设扶手，地面湿滑', '走廊照明不足'],
  C7: ['刀具未上锁保管'],
  C8: ['大门无人值守，有走失风险老人未佩戴定位手环'],
  C9: ['活动室器材损坏未及时维修'],
};

/** Hazards as the automatic sources would have opened them, by the kind of device they are about. */
const AUTO_HAZARDS: {
  source: string;
  kind: string;
  title: string;
  category: string;
  deadlineDays: number;
  reason: string;
}[] = [
  {
    source: 'extinguisher-pressure',
    kind: 'extinguisher',
    title: '灭火器/消火栓压力异常超过24小时',
    category: 'fire_facilities',
    deadlineDays: 3,
    reason: '灭火器欠压：压力 0.82 MPa < 1.0',
  },
  {
    source: 'camera-down',
    kind: 'camera',
    title: '摄像机离线或故障超过24小时',
    category: 'video',
    deadlineDays: 3,
    reason: '摄像机离线：180 秒无上报（3 × 60 秒）',
  },
  {
    source: 'detector-fault',
    kind: 'fire',
    title: '火灾探测器故障或被屏蔽超过24小时',
    category: 'fire_facilities',
    deadlineDays: 3,
    reason: '探测器被屏蔽',
  },
  {
    source: 'gateway-offline',
    kind: 'gateway',
    title: '监测网关离线超过24小时',
    category: 'monitoring',
    deadlineDays: 2,
    reason: '网关离线：连接意外中断',
  },
  {
    source: 'false-alarms',
    kind: 'institution',
    title: '一日内火灾误报超过5次',
    category: 'fire_facilities',
    deadlineDays: 7,
    reason: '近 24 小时内火灾报警 8 次，其中核实为误报 7 次',
  },
];

const COUNTY_HAZARDS: { title: string; description: string; category: string; severity: HazardSeverity }[] = [
  {
    title: '厨房燃气软管老化开裂',
    description: '燃气灶连接软管老化开裂，未按期更换',
    category: 'daily_management',
    severity: 'general',
  },
  {
    title: '配电箱周边堆放可燃物',
    description: '一层配电间内堆放纸箱、旧床垫',
    category: 'daily_management',
    severity: 'general',
  },
  {
    title: '安全出口指示灯损坏',
    description: '三层走廊两处安全出口指示灯不亮',
    category: 'fire_facilities',
    severity: 'general',
  },
  {
    title: '彩钢板临时用房住人',
    description: '后院彩钢板临时用房安排2名老人居住',
    category: 'facilities',
    severity: 'major',
  },
];

const COMPLAINTS = [
  '家属反映夜间呼叫护理员无人应答',
  '家属投诉伙食质量差、饭菜偏凉',
  '反映老人跌倒后未及时告知家属',
  '投诉收费项目未公示',
  '反映房间有异味、清洁不及时',
  '举报工作人员态度恶劣',
];
const VIOLATIONS = [
  '消防救援部门检查责令改正：疏散通道堆放杂物',
  '未按规定公示收费标准被责令改正',
  '食品留样不规范被市场监管部门责令改正',
];

interface Planned {
  at: number;
  run: () => Promise<void>;
}

/**
 * Generates the demo county's supervision history (`anlian up --demo`, first start): about two
 * months of inspections, hazards opened by inspections, by the automatic sources and by county
 * staff, each taken through its loop — started, submitted, sent back, accepted, overdue and
 * escalated — complaints and violations, and a grade for every institution every day. Everything
 * comes from the simulator's seed (the same seed gives the same history relative to `now`), and
 * every record carries the marker `demo-seed-<seed>`. It runs on its own simulated clock, without
 * notifications or audit entries: the history is the ledger's, the audit log is for people.
 */
export async function seedSupervisionDemo(
  database: Kysely<Database>,
  o: { county: string; seed: number; now: number; days?: number; logger?: Logger },
): Promise<DemoSeedResult> {
  const db = database as unknown as Kysely<SupervisionDatabase>;
  const days = o.days ?? 60;
  const marker = `demo-seed-${o.seed}`;
  const result: DemoSeedResult = { seeded: false, marker, hazards: 0, inspections: 0, countyInputs: 0, days };
  const existing = await db
    .selectFrom('hazards')
    .select('id')
    .where('county_id', '=', o.county)
    .unionAll(db.selectFrom('inspections').select('id').where('county_id', '=', o.county))
    .limit(1)
    .execute();
  if (existing.length > 0) return result;

  const sim = { now: o.now - days * DAY };
  const sup = buildSupervision({ db: database, logger: o.logger ?? pino({ level: 'silent' }), clock: () => sim.now });
  const random = seededRandom(`supervision-demo:${o.seed}`);
  const uniform = (a: number, b: number) => a + (b - a) * random();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const start = o.now - days * DAY;
  /** A working-hours time on the day `dayOffset` days into the history (China time). */
  const workTime = (dayOffset: number) =>
    Math.round(chinaStartOfDay(start + Math.floor(dayOffset) * DAY) + (8.5 + random() * 9) * HOUR);

  const institutions = await db
    .selectFrom('institutions')
    .select(['id', 'name'])
    .where('county_id', '=', o.county)
    .orderBy('id')
    .execute();
  const devices = await db
    .selectFrom('devices')
    .select(['institution_id', 'gateway_id', 'id', 'kind', 'name', 'building', 'floor', 'room'])
    .where('institution_id', 'in', institutions.length > 0 ? institutions.map((i) => i.id) : [''])
    .execute();
  const checklists = await sup.checklists.list(o.county);
  const policy = await sup.settings.get(o.county, 'ledger');

  // Risk propensity per institution: most run well, a few do not (a realistic spread of grades).
  const risk = new Map(institutions.map((i) => [i.id, random() ** 1.8]));
  const ranked = [...risk].sort((a, b) => b[1] - a[1]);
  for (const [k, [id, r]] of ranked.entries()) {
    if (k < 2) risk.set(id, Math.max(r, 0.88));
    else if (k < 6) risk.set(id, Math.max(r, 0.6));
  }
  /** The county's worst case: a major hazard left unrectified past its deadline (挂牌督办). */
  const flagged = new Set(ranked.slice(0, 1).map(([id]) => id));

  const plan: Planned[] = [];
  const at = (t: number, run: () => Promise<void>) => {
    // Whole milliseconds: the store's times are bigint columns (PostgreSQL refuses a fraction).
    if (t < o.now) plan.push({ at: Math.round(t), run });
  };

  /** The loop a hazard went through, as diligent as its institution. */
  const planLoop = (
    institution: string,
    get: () => Hazard | undefined,
    t0: number,
    deadlineDays: number,
    r: number,
    auto: boolean,
    neverSubmitted = false,
  ) => {
    const h = () => {
      const x = get();
      if (!x) throw new Error('demo hazard missing');
      return x;
    };
    const started = t0 + uniform(0.1, 2) * DAY;
    if (random() < 0.92)
      at(
        started,
        async () =>
          void (await sup.ledger.start(
            h().id,
            pick(['已安排整改', '已联系维保单位', '正在采购配件']),
            manager(institution),
            sim.now,
          )),
      );
    if (neverSubmitted || random() > 0.95 - 0.35 * r) return; // never submitted: overdue once past the deadline
    // Well-run institutions submit well within the deadline; poorly run ones often late.
    const submitAt = Math.max(started + HOUR, t0 + deadlineDays * (0.3 + 0.5 * random() + 0.9 * r * random()) * DAY);
    if (auto) at(submitAt - uniform(0.1, 0.8) * DAY, async () => void (await sup.ledger.causeCleared(h().id, sim.now)));
    const measures = pick([
      '已更换并试验合格，附整改照片',
      '已维修恢复正常，整改前后照片见附件',
      '已清理完毕并落实专人检查',
      '已完成整改并组织员工培训',
    ]);
    at(
      submitAt,
      async () => void (await sup.ledger.submit(h().id, { measures, photos: [] }, manager(institution), sim.now)),
    );
    const reviewAt = submitAt + uniform(0.4, 3) * DAY;
    if (random() < 0.1 + 0.35 * r) {
      at(
        reviewAt,
        async () =>
          void (await sup.ledger.review(
            h().id,
            { result: 'rejected', note: pick(['整改照片不清晰，请补充', '现场复查仍未整改到位', '整改措施不具体']) },
            OPERATOR,
            sim.now,
          )),
      );
      const again = reviewAt + uniform(1, 5) * DAY;
      at(
        again,
        async () =>
          void (await sup.ledger.submit(
            h().id,
            { measures: `${measures}（补充整改）`, photos: [] },
            manager(institution),
            sim.now,
          )),
      );
      at(
        again + uniform(0.5, 2) * DAY,
        async () => void (await sup.ledger.review(h().id, { result: 'accepted', note: '复查合格' }, OPERATOR, sim.now)),
      );
    } else {
      at(
        reviewAt,
        async () =>
          void (await sup.ledger.review(
            h().id,
            { result: 'accepted', note: pick(['复查合格', '照片核实，整改到位', '现场复查合格']) },
            OPERATOR,
            sim.now,
          )),
      );
    }
  };

  for (const inst of institutions) {
    const r = risk.get(inst.id) ?? 0;
    const own = devices.filter((d) => d.institution_id === inst.id);
    const managerContact = await sup.ledger.ownerFor(inst.id, 'manager');

    // Inspections: a routine visit, more for institutions that worry the county.
    const count = 1 + (random() < 0.4 ? 1 : 0) + (r > 0.6 ? 1 : 0);
    for (let k = 0; k < count; k++) {
      const t = workTime(uniform(2, days - 1));
      const useMca = random() < 0.5;
      const list = checklists.find((c) => c.checklist.id === (useMca ? 'mca-2023-major-hazards' : 'gb-38600-2019'));
      if (!list) continue;
      const results: Record<string, { result: 'pass' | 'fail' | 'na'; note?: string }> = {};
      for (const item of list.checklist.items) {
        const p = useMca ? (r > 0.8 ? 0.06 : r > 0.5 ? 0.015 : 0.003) : 0.03 + 0.3 * r;
        const failed = random() < p && FINDING_NOTES[item.id] !== undefined;
        results[item.id] = failed ? { result: 'fail', note: pick(FINDING_NOTES[item.id] ?? ['']) } : { result: 'pass' };
      }
      let found: Hazard[] = [];
      at(t, async () => {
        const insp = await sup.inspections.start(
          {
            institution: inst.id,
            checklistId: list.checklist.id,
            kind: random() < 0.4 ? 'random' : 'routine',
            generated: marker,
          },
          OPERATOR,
          sim.now,
        );
        result.inspections++;
        found = (await sup.inspections.submit(insp.id, { results, summary: '例行检查' }, OPERATOR, sim.now + 2 * HOUR))
          .hazards;
        result.hazards += found.length;
      });
      // Hazards open in checklist order, one per failed item.
      const failed = list.checklist.items.filter((item) => results[item.id]?.result === 'fail');
      failed.forEach((item, j) => {
        planLoop(inst.id, () => found[j], t + 2 * HOUR, policy.deadlineDays[item.severity], r, false);
      });
    }

    // Hazards the automatic sources opened.
    const autos = Math.round(r * 4 + random() * 1.2);
    for (let k = 0; k < autos; k++) {
      const spec = pick(AUTO_HAZARDS);
      const device = own.filter((d) => d.kind === spec.kind);
      const d = device.length > 0 ? pick(device) : undefined;
      const t = Math.round(start + uniform(1, days - 1) * DAY);
      let hazard: Hazard | undefined;
      const cause = `${spec.source}:demo:${inst.id}:${d?.id ?? spec.kind}:${k}`;
      at(t, async () => {
        hazard = (
          await sup.ledger.open(
            {
              institution: inst.id,
              category: spec.category,
              severity: 'general',
              source: 'auto',
              sourceRule: spec.source,
              causeKey: cause,
              title: spec.title,
              description: `${d ? `${d.name}：` : ''}${spec.reason}，已持续超过 24 小时未恢复（演示历史）。`,
              evidence: { demo: marker, ...(d ? { gateway: d.gateway_id, device: d.id } : {}) },
              location: d ? `${d.building} ${d.floor} ${d.room}` : null,
              ...(managerContact
                ? { ownerContactId: managerContact.contactId, deadlineAt: t + spec.deadlineDays * DAY }
                : {}),
              note: '平台自动发现',
              foundAt: t,
              generated: marker,
            },
            { name: 'system', role: 'system' },
          )
        ).hazard;
        result.hazards++;
      });
      planLoop(inst.id, () => hazard, t, spec.deadlineDays, r, true);
    }

    // Hazards county staff entered (from a joint check with the fire brigade, a report, …).
    const manual = (r > 0.4 ? 1 : 0) + (r > 0.8 ? 1 : 0);
    for (let k = 0; k < manual; k++) {
      const spec = COUNTY_HAZARDS[(k + Math.floor(random() * COUNTY_HAZARDS.length)) % COUNTY_HAZARDS.length];
      if (!spec) continue;
      const t = workTime(uniform(1, days - 1));
      let hazard: Hazard | undefined;
      at(t, async () => {
        hazard = (
          await sup.ledger.open(
            {
              ...spec,
              institution: inst.id,
              source: 'manual',
              ...(managerContact
                ? { ownerContactId: managerContact.contactId, deadlineAt: t + policy.deadlineDays[spec.severity] * DAY }
                : {}),
              supervisor: OPERATOR.name,
              note: '联合检查发现',
              foundAt: t,
              generated: marker,
            },
            OPERATOR,
          )
        ).hazard;
        result.hazards++;
      });
      planLoop(inst.id, () => hazard, t, policy.deadlineDays[spec.severity], r, false);
    }

    if (flagged.has(inst.id)) {
      const spec = COUNTY_HAZARDS.find((c) => c.severity === 'major');
      const t = workTime(uniform(days - 45, days - 35));
      let hazard: Hazard | undefined;
      if (spec) {
        at(t, async () => {
          hazard = (
            await sup.ledger.open(
              {
                ...spec,
                institution: inst.id,
                source: 'manual',
                ...(managerContact
                  ? { ownerContactId: managerContact.contactId, deadlineAt: t + policy.deadlineDays.major * DAY }
                  : {}),
                supervisor: OPERATOR.name,
                note: '联合检查发现，挂牌督办',
                foundAt: t,
                generated: marker,
              },
              OPERATOR,
            )
          ).hazard;
          result.hazards++;
        });
        planLoop(inst.id, () => hazard, t, policy.deadlineDays.major, r, false, true);
      }
    }

    // The county's own inputs (seeds 003/004): complaints and violations.
    const complaints = Math.max(0, Math.round(r * 3.5 + random() * 0.8 - 0.4));
    for (let k = 0; k < complaints; k++) {
      const t = workTime(uniform(0, days));
      at(t, async () => {
        await sup.countyInputs.record(
          { institution: inst.id, kind: 'complaint', at: t, note: pick(COMPLAINTS), generated: marker },
          OPERATOR,
        );
        result.countyInputs++;
      });
    }
    const violations = (r > 0.75 ? 1 : 0) + (r > 0.9 ? 1 : 0);
    for (let k = 0; k < violations; k++) {
      const t = workTime(uniform(0, days));
      at(t, async () => {
        await sup.countyInputs.record(
          { institution: inst.id, kind: 'violation', at: t, note: pick(VIOLATIONS), generated: marker },
          OPERATOR,
        );
        result.countyInputs++;
      });
    }
  }

  // Replay day by day: the day's steps in time order, the escalations that fell due, the grades.
  plan.sort((a, b) => a.at - b.at);
  const every = escalateEveryMs(policy);
  let next = 0;
  for (let day = 0; day <= days; day++) {
    const dayEnd = Math.min(o.now, chinaStartOfDay(start + day * DAY) + DAY);
    while (next < plan.length && (plan[next]?.at ?? Number.POSITIVE_INFINITY) < dayEnd) {
      const step = plan[next++];
      if (!step) break;
      sim.now = step.at;
      try {
        await step.run();
      } catch (err) {
        // A step whose hazard moved otherwise (e.g. reviewed before its cause cleared): skip it.
        o.logger?.debug({ err }, 'demo history step skipped');
      }
    }
    sim.now = dayEnd;
    await sup.ledger.claimReminders(24 * HOUR, dayEnd);
    while ((await sup.ledger.claimEscalations(every, dayEnd)).length > 0) {
      // An overdue hazard escalates once per period; days the history skipped are caught up here.
    }
    await sup.grader.recompute(o.county, { at: dayEnd, reason: 'demo' });
    if (dayEnd >= o.now) break;
  }
  result.seeded = true;
  o.logger?.info({ county: o.county, ...result }, 'demo supervision history generated');
  return result;
}
