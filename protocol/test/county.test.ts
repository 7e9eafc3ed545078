import { describe, expect, it } from 'vitest';
import { CameraCoverage, CountyConfig, cameraCoverageZones, coverageZone } from '../src/index.js';

const device = (id: string, kind = 'fire') => ({
  id,
  kind,
  name: `设备 ${id}`,
  location: { building: '主楼', floor: '1F', room: '101室' },
});
const base = () => ({
  county: { id: 'youyang', name: '酉阳土家族苗族自治县', adcode: '500242' },
  institutions: [
    {
      id: 'yy-a',
      name: '钟多街道敬老院',
      address: '重庆市酉阳县钟多街道',
      location: { lng: 108.77, lat: 28.84 },
      beds: 80,
      gateways: [{ id: 'gw-a-1', secret: 'demo-secret-0001', devices: [device('s1'), device('s2', 'kitchen')] }],
      contacts: [{ id: 'c1', name: '张三', role: 'manager', phone: '13800138000' }],
    },
  ],
});

describe('CountyConfig', () => {
  it('accepts a valid county and fills defaults', () => {
    const c = CountyConfig.parse(base());
    expect(c.county.timezone).toBe('Asia/Shanghai');
  });

  it('names the path of duplicate ids', () => {
    const c = base();
    c.institutions[0]?.gateways[0]?.devices.push(device('s1'));
    const r = CountyConfig.safeParse(c);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['institutions', 0, 'gateways', 0, 'devices', 2, 'id']);
    expect(r.error?.issues[0]?.message).toMatch(/duplicate device id "s1"/);
  });

  it('rejects a bad kind, a bad phone and a medium on a non-gauge', () => {
    const c = base() as ReturnType<typeof base> & Record<string, never>;
    const inst = c.institutions[0];
    if (!inst?.gateways[0]) throw new Error('fixture');
    inst.gateways[0].devices.push({ ...device('x1', 'toaster') });
    inst.gateways[0].devices.push({ ...device('x2', 'kitchen'), medium: 'sprinkler' } as never);
    inst.contacts.push({ id: 'c2', name: '李四', role: 'deputy', phone: '12345' });
    const r = CountyConfig.safeParse(c);
    const paths = r.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'institutions.0.gateways.0.devices.2.kind',
        'institutions.0.gateways.0.devices.3.medium',
        'institutions.0.contacts.1.phone',
      ]),
    );
  });

  it('says which zones a camera covers (视频复核): a building, a floor or a room; cameras only', () => {
    const c = base();
    const gw = c.institutions[0]?.gateways[0];
    if (!gw) throw new Error('fixture');
    const cam = {
      ...device('cam-1', 'camera'),
      location: { building: '主楼', floor: '1F', room: '走廊' },
      covers: [{ building: '主楼', floor: '1F' }, { building: '附楼' }],
    };
    (gw.devices as unknown[]).push(cam, { ...device('cam-2', 'camera') });
    const parsed = CountyConfig.parse(c);
    const [corridor, plain] = parsed.institutions[0]?.gateways[0]?.devices.slice(2) ?? [];
    if (!corridor || !plain) throw new Error('parsed');
    expect(cameraCoverageZones(corridor)).toEqual(['主楼 1F', '附楼']);
    // Without covers, a camera covers the room it is in.
    expect(cameraCoverageZones(plain)).toEqual(['主楼 1F 101室']);
    expect(coverageZone({ building: '主楼', floor: '3F', room: '东走廊' })).toBe('主楼 3F 东走廊');

    (gw.devices as unknown[]).push({ ...device('s9'), covers: [{ building: '主楼' }] });
    const r = CountyConfig.safeParse(c);
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'institutions.0.gateways.0.devices.4.covers: covers is only for camera devices',
    ]);
    expect(CameraCoverage.safeParse({ building: '主楼', room: '101室' }).error?.issues[0]?.message).toBe(
      'a room needs its floor',
    );
  });
});
