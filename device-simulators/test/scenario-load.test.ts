import { describe, expect, it } from 'vitest';
import { SimErrorCode, SimulatorError } from '../src/errors.js';
import { MessageGenerator } from '../src/generator/message-generator.js';
import { defineScenario, parseScenario } from '../src/scenario/load-scenario.js';
import { DAY_START, demoSubset, HOUR, MINUTE } from './support.js';

const HEADER = `title: { zh: 测试, en: Test }
description: { zh: 测试场景, en: A test scenario }
`;

function errorOf(text: string, file = 'drill.yaml'): SimulatorError {
  try {
    parseScenario(text, file);
  } catch (err) {
    if (err instanceof SimulatorError) return err;
    throw err;
  }
  throw new Error('expected the scenario to be refused');
}

describe('parseScenario', () => {
  it('accepts offsets, local times and defaults', () => {
    const s = parseScenario(
      `${HEADER}start: "11:20"
faults:
  - { type: fire-alarm, at: 5m, target: { institution: yy-zhongduo } }
  - { type: kitchen-overheat, at: "11:30", target: { institution: yy-zhongduo } }
  - { type: gateway-drop, at: 300, target: { gateway: gw-yy-zhongduo-1 } }
  - { type: clock-skew, at: 1h30m, target: { institution: yy-zhongduo }, offset: -10m }
`,
      'ok.yaml',
    );
    expect(s.start).toEqual({ localTime: { hour: 11, minute: 20, second: 0 } });
    expect(s.settle).toBe(2 * MINUTE);
    expect(s.faults.map((f) => f.at)).toEqual([
      { offsetMs: 5 * MINUTE },
      { localTime: { hour: 11, minute: 30, second: 0 } },
      { offsetMs: 5 * MINUTE },
      { offsetMs: 90 * MINUTE },
    ]);
    expect(s.faults[1]).toMatchObject({ peak: 70, ratePerMin: 10, hold: 10 * MINUTE, event: false });
    expect(s.faults[2]).toMatchObject({ for: 2 * MINUTE, cause: 'uplink' });
    expect(s.faults[3]).toMatchObject({ offset: -10 * MINUTE });
    expect(s.faults[0]?.target.pick).toBe('first');
    expect(s.source).toEqual({ file: 'ok.yaml', faultLines: [5, 6, 7, 8] });
  });

  it('names the line and field of a bad fault type', () => {
    const err = errorOf(`${HEADER}faults:
  - type: fire-alarm
    at: 1m
    target: { institution: yy-zhongduo }
  - type: fire-alarmm
    at: 2m
    target: { institution: yy-zhongduo }
`);
    expect(err.code).toBe(SimErrorCode.SCENARIO_INVALID);
    expect(err.message).toContain('line 7');
    expect(err.message).toContain('faults.1.type');
    expect(err.message).toContain('fire-alarm, kitchen-overheat');
    expect(err.issues).toEqual([expect.objectContaining({ line: 7, column: 11, path: 'faults.1.type' })]);
  });

  it('names the line and field of a bad device kind in a target', () => {
    const err = errorOf(`${HEADER}faults:
  - type: silent-device
    at: 1m
    target:
      institution: yy-zhongduo
      kind: smoke
`);
    expect(err.message).toContain('line 8');
    expect(err.message).toContain('faults.0.target.kind');
    expect(err.message).toMatch(/fire, extinguisher, kitchen, camera/);
  });

  it('points at an unknown field’s key, and at the object that lacks a required one', () => {
    const err = errorOf(`${HEADER}faults:
  - type: camera
    at: 1m
    target: { institution: yy-daxi }
    fualt: frozen
`);
    expect(err.issues.map((i) => `${i.line} ${i.path} ${i.message}`)).toEqual([
      '4 faults.0.fault required: one of frozen, black, offline, dark, bright, blurred, occluded (missing in this object)',
      '7 faults.0.fualt unknown field',
    ]);
  });

  it('explains a bad time and a bad duration', () => {
    const err = errorOf(`${HEADER}faults:
  - { type: gateway-drop, at: 5 minutes, target: { institution: yy-a }, for: 2m }
  - { type: silent-device, at: "25:00", target: { institution: yy-a }, for: soon }
`);
    expect(err.message).toMatch(/line 4, column \d+: faults\.0\.at: "5 minutes" is neither an offset/);
    expect(err.message).toMatch(/line 5, column \d+: faults\.1\.at: "25:00"/);
    expect(err.message).toMatch(/line 5, column \d+: faults\.1\.for: "soon" is not a duration/);
  });

  it('reports YAML syntax errors by line', () => {
    const err = errorOf(`${HEADER}faults:
  - type: fire-alarm
    at: 1m
   target: { institution: yy-a }
`);
    expect(err.message).toContain('is not valid YAML/JSON');
    expect(err.message).toContain('drill.yaml: line 6');
    expect(err.issues[0]?.line).toBe(6);
  });

  it('reads JSON the same way, with positions', () => {
    const json = `{
  "title": { "zh": "测试", "en": "Test" },
  "description": { "zh": "测试", "en": "Test" },
  "faults": [
    { "type": "camera", "at": "1m", "target": { "institution": "yy-daxi" }, "fault": "blurry" }
  ]
}`;
    const err = errorOf(json, 'drill.json');
    expect(err.message).toContain('drill.json: line 5');
    expect(err.message).toContain('faults.0.fault');
    expect(parseScenario(json.replace('blurry', 'black'), 'drill.json').faults[0]).toMatchObject({
      type: 'camera',
      fault: 'black',
    });
  });

  it('requires both Chinese and English titles', () => {
    const err = errorOf(`title: { zh: 测试 }
description: { zh: 测试, en: Test }
faults: [{ type: duplicates, at: 0, target: {} }]
`);
    expect(err.message).toContain('line 1');
    expect(err.message).toContain('title.en: required');
  });
});

describe('scenario targets', () => {
  it('a target that selects nothing fails with the fault’s line', async () => {
    const county = await demoSubset(2);
    const scenario = parseScenario(
      `${HEADER}faults:
  - { type: fire-alarm, at: 1m, target: { institution: yy-zhongduo } }
  - { type: fire-alarm, at: 2m, target: { institution: yy-nowhere } }
`,
      'missing.yaml',
    );
    expect(() => new MessageGenerator({ county, startMs: DAY_START, scenario })).toThrow(
      expect.objectContaining({
        code: SimErrorCode.TARGET_NOT_FOUND,
        message: expect.stringMatching(/missing\.yaml: line 5: faults\.1 \(fire-alarm\)/),
      }),
    );
  });

  it('picks first, all or seeded matches deterministically', async () => {
    const county = await demoSubset(2);
    const targets = (pick: string, seed: number) =>
      new MessageGenerator({
        county,
        seed,
        startMs: DAY_START,
        scenario: defineScenario({
          title: { zh: '测', en: 'T' },
          description: { zh: '测', en: 'T' },
          faults: [
            {
              type: 'silent-device',
              at: 0,
              target: { institution: 'yy-zhongduo', kind: 'fire', floor: '2F', pick: pick as 'first' },
            },
          ],
        }),
      }).faults[0]?.targets.map((t) => t.device);
    expect(targets('first', 1)).toEqual(['smk-2f-201']);
    expect(targets('first', 2)).toEqual(['smk-2f-201']);
    expect(targets('all', 1)?.length).toBeGreaterThan(10);
    expect(targets('seeded', 5)).toEqual(targets('seeded', 5));
    const seeded = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => targets('seeded', s)?.[0]));
    expect(seeded.size).toBeGreaterThan(1);
  });

  it('resolves local times on the simulated clock in the county’s zone', async () => {
    const county = await demoSubset(1);
    const scenario = defineScenario({
      title: { zh: '测', en: 'T' },
      description: { zh: '测', en: 'T' },
      faults: [
        { type: 'duplicates', at: '12:05', target: { institution: 'yy-fuli-zhongxin' } },
        { type: 'duplicates', at: '09:00', target: { institution: 'yy-fuli-zhongxin' } },
        { type: 'duplicates', at: '11:00', target: { institution: 'yy-fuli-zhongxin' } },
      ],
    });
    const gen = new MessageGenerator({ county, startMs: DAY_START + 11 * HOUR, scenario });
    expect(gen.faults.map((f) => f.atSimMs)).toEqual([
      DAY_START + 12 * HOUR + 5 * MINUTE,
      DAY_START + 33 * HOUR,
      DAY_START + 11 * HOUR,
    ]);
  });
});
