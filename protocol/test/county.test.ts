import { describe, expect, it } from 'vitest';
import { CountyConfig } from '../src/index.js';

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
});
