import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, login, startHarness } from './dashboard-harness.js';

const DAY = 86_400_000;
/** A JPEG as far as the server looks (its magic bytes); the browser test sends real camera images. */
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7), Buffer.from([0xff, 0xd9])]);

/**
 * The hazard ledger, grades and inspections through the HTTP API with their authorization: the
 * county runs the loop; a manager sees and acts on their own institution's hazards only, and
 * every step lands in the audit log with actor, time and note.
 */
describe('supervision API', () => {
  let h: Harness;
  let admin: string;
  let operator: string;
  let managerA: string;
  let managerB: string;
  let viewer: string;
  let hazardA: string;

  const call = async (
    cookie: string | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    h.dashboard.app.inject({
      method,
      url,
      headers: { ...(cookie ? { cookie } : {}), ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    h = await startHarness({ supervision: true });
    admin = await login(h, 'admin', h.demo.admin.password);
    operator = await login(h, 'operator', h.demo.operator.password);
    managerA = await login(h, 'inst-a', h.demo.managers[0]?.password ?? '');
    managerB = await login(h, 'inst-b', h.demo.managers[1]?.password ?? '');
    const kiosk = await call(undefined, 'POST', '/api/auth/kiosk', { token: h.demo.kioskToken });
    viewer = `anl_session=${kiosk.cookies.find((c) => c.name === 'anl_session')?.value}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lets county staff enter a hazard, assigned at once to a contact with a deadline', async () => {
    const res = await call(operator, 'POST', '/api/hazards', {
      institution: 'inst-a',
      category: 'daily_management',
      severity: 'major',
      title: '二层安全出口上锁',
      description: '夜间检查时二层安全出口被链条锁住',
      location: '主楼 2F',
      ownerContactId: 'mgr',
      deadlineAt: Date.now() + 7 * DAY,
      note: '立即整改',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      institution: 'inst-a',
      status: 'assigned',
      owner: { contactId: 'mgr', name: '张三' },
      supervisor: 'operator',
      source: 'manual',
    });
    hazardA = res.json().id;
    const bad = await call(operator, 'POST', '/api/hazards', {
      institution: 'inst-a',
      category: 'x',
      severity: 'general',
      title: 't',
      description: 'd',
      ownerContactId: 'nobody',
      deadlineAt: Date.now() + DAY,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('ANL_SUP_INVALID');
    // Managers and wall screens do not enter hazards.
    expect(
      (
        await call(managerA, 'POST', '/api/hazards', {
          institution: 'inst-a',
          category: 'x',
          severity: 'general',
          title: 't',
          description: 'd',
        })
      ).statusCode,
    ).toBe(403);
    expect((await call(viewer, 'GET', '/api/hazards')).statusCode).toBe(200);
  });

  it('shows a manager only their own institution’s hazards, and lets them act on nothing else', async () => {
    const b = await call(operator, 'POST', '/api/hazards', {
      institution: 'inst-b',
      category: 'service_safety',
      severity: 'general',
      title: '走廊扶手松动',
      description: '二层走廊扶手松动',
      ownerContactId: 'mgr',
      deadlineAt: Date.now() + 5 * DAY,
    });
    const hazardB = b.json().id as string;

    const listA = await call(managerA, 'GET', '/api/hazards');
    expect(listA.json().hazards.map((x: { institution: string }) => x.institution)).toEqual(['inst-a']);
    expect((await call(managerA, 'GET', '/api/hazards?institution=inst-b')).statusCode).toBe(403);
    expect((await call(operator, 'GET', '/api/hazards')).json().total).toBe(2);

    // Manager B on A's hazard: neither seen nor touched.
    expect((await call(managerB, 'GET', `/api/hazards/${hazardA}`)).statusCode).toBe(403);
    expect((await call(managerB, 'POST', `/api/hazards/${hazardA}/start`, {})).statusCode).toBe(403);
    expect(
      (await call(managerB, 'POST', `/api/hazards/${hazardA}/submit`, { measures: '已处理', photos: [] })).statusCode,
    ).toBe(403);
    expect(
      (await call(managerB, 'POST', `/api/photos?institution=inst-a`, JPEG, { 'content-type': 'image/jpeg' }))
        .statusCode,
    ).toBe(403);
    expect((await call(managerB, 'GET', '/api/rectifications?institution=inst-a')).statusCode).toBe(403);
    expect((await call(managerB, 'GET', '/api/institutions/inst-a/file')).statusCode).toBe(403);
    expect((await call(managerB, 'GET', '/api/institutions/inst-a/grade')).statusCode).toBe(403);
    expect((await call(managerB, 'GET', '/api/institutions/inst-a/inputs')).statusCode).toBe(403);
    const exportB = await call(managerB, 'GET', '/api/hazards/export?list=hazards');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(exportB.rawPayload as unknown as ArrayBuffer);
    const ids = wb.getWorksheet('隐患清单')?.getColumn(1).values.slice(3);
    expect(ids).toEqual([hazardB]);
    // A manager does not review, withdraw or reassign, even their own.
    expect((await call(managerB, 'POST', `/api/hazards/${hazardB}/review`, { result: 'accepted' })).statusCode).toBe(
      403,
    );
    expect((await call(managerB, 'POST', `/api/hazards/${hazardB}/withdraw`, { reason: '不是隐患' })).statusCode).toBe(
      403,
    );
    // Another county's hazard id is simply not there.
    expect((await call(operator, 'GET', '/api/hazards/hz_nonexistent')).statusCode).toBe(404);
  });

  it('runs the loop: the manager submits with a photo, the county sends it back, then accepts and closes', async () => {
    expect((await call(managerA, 'POST', `/api/hazards/${hazardA}/start`, { note: '已联系锁匠' })).json().status).toBe(
      'rectifying',
    );
    const up = await call(managerA, 'POST', '/api/photos?institution=inst-a', JPEG, { 'content-type': 'image/jpeg' });
    expect(up.statusCode).toBe(200);
    const photo = up.json().id as string;
    const img = await call(managerA, 'GET', `/api/photos/${photo}`);
    expect(img.headers['content-type']).toBe('image/jpeg');
    expect(img.rawPayload.equals(JPEG)).toBe(true);
    expect((await call(managerB, 'GET', `/api/photos/${photo}`)).statusCode).toBe(403);
    const notImage = await call(managerA, 'POST', '/api/photos?institution=inst-a', Buffer.from('GIF89a-not-jpeg'), {
      'content-type': 'image/jpeg',
    });
    expect(notImage.json().code).toBe('ANL_SUP_PHOTO_INVALID');

    const sub = await call(managerA, 'POST', `/api/hazards/${hazardA}/submit`, {
      measures: '拆除链条锁，更换为推闩式逃生门锁',
      photos: [photo],
    });
    expect(sub.json()).toMatchObject({ status: 'submitted' });
    const noReason = await call(operator, 'POST', `/api/hazards/${hazardA}/review`, { result: 'rejected' });
    expect(noReason.statusCode).toBe(400);
    const back = await call(operator, 'POST', `/api/hazards/${hazardA}/review`, {
      result: 'rejected',
      note: '照片未显示门锁型号',
    });
    expect(back.json().status).toBe('rectifying');
    await call(managerA, 'POST', `/api/hazards/${hazardA}/submit`, { measures: '补拍门锁型号', photos: [photo] });
    const done = await call(operator, 'POST', `/api/hazards/${hazardA}/review`, { result: 'accepted', note: '合格' });
    expect(done.json()).toMatchObject({ status: 'closed' });
    const twice = await call(operator, 'POST', `/api/hazards/${hazardA}/review`, { result: 'accepted' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('ANL_SUP_TRANSITION_INVALID');

    const detail = (await call(managerA, 'GET', `/api/hazards/${hazardA}`)).json();
    expect(detail.transitions.map((t: { event: string }) => t.event)).toEqual([
      'found',
      'assigned',
      'rectifying',
      'submitted',
      'rejected',
      'submitted',
      'accepted',
      'closed',
    ]);
    expect(detail.rectifications).toHaveLength(2);

    // Every step in the audit log, with actor, time and note.
    const audit = (await call(admin, 'GET', '/api/admin/audit?institution=inst-a&limit=100')).json().entries as {
      action: string;
      actor: string;
      at: number;
      target: string;
      detail: { note?: string };
    }[];
    const steps = audit.filter((e) => e.target === hazardA).reverse();
    expect(steps.map((e) => `${e.action} ${e.actor}`)).toEqual([
      'hazard.found operator',
      'hazard.assigned operator',
      'hazard.rectifying inst-a',
      'hazard.submitted inst-a',
      'hazard.rejected operator',
      'hazard.submitted inst-a',
      'hazard.accepted operator',
      'hazard.closed system',
    ]);
    expect(steps.find((e) => e.action === 'hazard.rejected')?.detail.note).toBe('照片未显示门锁型号');
    expect(steps.every((e) => typeof e.at === 'number')).toBe(true);
  });

  it('exports the three lists to Excel with cells that are never formulas', async () => {
    await call(operator, 'POST', '/api/hazards', {
      institution: 'inst-b',
      category: 'other_major',
      severity: 'general',
      title: '=HYPERLINK("http://evil.example","点击")',
      description: "+cmd|' /C calc'!A0",
      ownerContactId: 'mgr',
      deadlineAt: Date.now() + DAY,
    });
    const res = await call(operator, 'GET', '/api/hazards/export');
    expect(res.headers['content-type']).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['隐患清单', '整改清单', '责任清单']);
    const hz = wb.getWorksheet('隐患清单');
    expect(hz?.getRow(2).values).toEqual(expect.arrayContaining(['编号', '机构', '隐患', '整改期限']));
    const cells: unknown[] = [];
    hz?.eachRow((row) => row.eachCell((c) => cells.push(c.value)));
    expect(cells).toContain('\'=HYPERLINK("http://evil.example","点击")');
    expect(cells).toContain("'+cmd|' /C calc'!A0");
    // No cell is a formula.
    expect(cells.some((v) => typeof v === 'object' && v !== null && 'formula' in v)).toBe(false);
    const measures = wb.getWorksheet('整改清单');
    expect(measures?.getColumn(5).values).toContain('拆除链条锁，更换为推闩式逃生门锁');
    const resp = wb.getWorksheet('责任清单');
    expect(resp?.getRow(3).values).toEqual(expect.arrayContaining(['13800138000']));
  });

  it('records inspections on a checklist and opens hazards from failed items', async () => {
    const lists = (await call(operator, 'GET', '/api/checklists')).json().checklists;
    expect(lists.map((c: { checklist: { id: string } }) => c.checklist.id)).toEqual([
      'mca-2023-major-hazards',
      'gb-38600-2019',
    ]);
    const start = await call(operator, 'POST', '/api/inspections', {
      institution: 'inst-b',
      checklistId: 'gb-38600-2019',
      kind: 'routine',
    });
    expect(start.statusCode).toBe(200);
    const id = start.json().id as string;
    expect(
      (
        await call(managerB, 'POST', '/api/inspections', {
          institution: 'inst-b',
          checklistId: 'gb-38600-2019',
          kind: 'routine',
        })
      ).statusCode,
    ).toBe(403);
    await call(operator, 'PUT', `/api/inspections/${id}`, { results: { C1: { result: 'pass' } } });
    const sub = await call(operator, 'POST', `/api/inspections/${id}/submit`, {
      results: { C1: { result: 'pass' }, C6: { result: 'fail', note: '卫生间无扶手' } },
      summary: '发现1项问题',
    });
    expect(sub.statusCode).toBe(200);
    expect(sub.json().hazards).toEqual([
      expect.objectContaining({ institution: 'inst-b', source: 'inspection', itemRef: 'C6', status: 'assigned' }),
    ]);
    expect((await call(managerB, 'GET', `/api/inspections/${id}`)).json().findings).toBe(1);
    expect((await call(managerA, 'GET', `/api/inspections/${id}`)).statusCode).toBe(403);
    expect((await call(operator, 'PUT', '/api/checklists/gb-38600-2019', lists[1].checklist)).statusCode).toBe(403);
    const edited = { ...lists[1].checklist, note: '本县补充' };
    expect((await call(admin, 'PUT', '/api/checklists/gb-38600-2019', edited)).json().version).toBe(1);
  });

  it('grades, explains and draws; county inputs move the grade', async () => {
    const sup = h.supervision;
    if (!sup) throw new Error('no supervision');
    expect((await call(managerA, 'POST', '/api/grades/recompute')).statusCode).toBe(403);
    expect((await call(operator, 'POST', '/api/grades/recompute')).json().graded).toBe(2);
    const grades = (await call(operator, 'GET', '/api/grades')).json();
    expect(grades.institutions.map((g: { institution: string }) => g.institution)).toEqual(['inst-a', 'inst-b']);
    expect(grades.policy.inspectionsPerYear).toEqual({ red: 12, orange: 4, yellow: 2, blue: 1 });
    expect((await call(managerA, 'GET', '/api/grades')).json().institutions).toHaveLength(1);
    const before = (await call(operator, 'GET', '/api/institutions/inst-b/grade')).json();
    const sum = before.current.explanation.factors.reduce(
      (s: number, f: { contribution: number }) => s + f.contribution,
      0,
    );
    expect(Math.round(sum * 100) / 100).toBe(before.current.score);

    expect(
      (await call(managerB, 'POST', '/api/institutions/inst-b/inputs', { kind: 'complaint', note: 'x' })).statusCode,
    ).toBe(403);
    for (let i = 0; i < 3; i++) {
      expect(
        (await call(operator, 'POST', '/api/institutions/inst-b/inputs', { kind: 'complaint', note: `家属投诉${i}` }))
          .statusCode,
      ).toBe(200);
    }
    await sup.grader.recompute('testcounty', { reason: 'inputs' });
    const after = (await call(operator, 'GET', '/api/institutions/inst-b/grade')).json();
    expect(after.current.score).toBe(before.current.score + 10);
    expect((await call(managerB, 'GET', '/api/institutions/inst-b/inputs')).json().inputs).toHaveLength(3);

    const draw = await call(operator, 'POST', '/api/inspection-draws', { count: 1 });
    expect(draw.statusCode).toBe(200);
    expect(draw.json().drawn[0].inspectors.length).toBeGreaterThan(0);
    expect((await call(operator, 'GET', '/api/inspection-draws')).json().draws).toHaveLength(1);
    expect((await call(managerA, 'POST', '/api/inspection-draws', { count: 1 })).statusCode).toBe(403);
  });

  it('lets county admins change the policy, and nobody else', async () => {
    const settings = (await call(operator, 'GET', '/api/supervision/settings')).json();
    expect(settings.ledger.value).toMatchObject({ escalateEveryHours: 24, remindBeforeHours: 24 });
    expect(settings.sources.value.sources.map((s: { id: string }) => s.id)).toContain('false-alarms');
    expect(
      (await call(operator, 'PUT', '/api/supervision/settings/ledger', { escalateEveryHours: 12 })).statusCode,
    ).toBe(403);
    const bad = await call(admin, 'PUT', '/api/supervision/settings/grading', {
      thresholds: { red: 1, orange: 2, yellow: 3 },
    });
    expect(bad.json().code).toBe('ANL_SUP_CONFIG_INVALID');
    expect(
      (await call(admin, 'PUT', '/api/supervision/settings/ledger', { escalateEveryHours: 12 })).json(),
    ).toMatchObject({
      escalateEveryHours: 12,
    });
    expect((await call(admin, 'DELETE', '/api/supervision/settings/ledger')).json()).toEqual({ reset: true });
  });

  it('puts one institution’s file together, for the county and for its own manager only', async () => {
    const file = (await call(operator, 'GET', '/api/institutions/inst-b/file')).json();
    expect(file.institution).toMatchObject({ id: 'inst-b', name: '测试养老院B' });
    expect(file.grade.grade).toMatch(/red|orange|yellow|blue/);
    expect(file.hazards.open.length).toBeGreaterThanOrEqual(2);
    expect(file.inspections).toHaveLength(1);
    expect(file.countyInputs).toHaveLength(3);
    expect(file.contacts).toEqual([{ id: 'mgr', name: '张三', role: 'manager', phone: '13800138000' }]);
    expect(file.devices).toMatchObject({ total: 5, byKind: { fire: { total: 1 }, electrical: { total: 1 } } });
    expect((await call(managerB, 'GET', '/api/institutions/inst-b/file')).statusCode).toBe(200);
  });
});
