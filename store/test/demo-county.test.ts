import { readFile } from 'node:fs/promises';
import { CountyConfig, DEVICE_KINDS } from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { buildDemoCounty, DEMO_COUNTY_COMMENT } from '../src/demo-county.js';

const countiesDir = new URL('../../deploy/counties/', import.meta.url);

type Ring = [number, number][];

/** Ray casting (even–odd rule): a ray from the point towards +x crosses the ring an odd number of times iff inside. */
function insideRing(lng: number, lat: number, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > lat !== yj > lat && lng < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside the outer ring and outside every hole. */
function insidePolygon(lng: number, lat: number, rings: Ring[]): boolean {
  const [outer, ...holes] = rings;
  return outer !== undefined && insideRing(lng, lat, outer) && !holes.some((h) => insideRing(lng, lat, h));
}

async function countyOutline(): Promise<Ring[]> {
  const geo = JSON.parse(await readFile(new URL('youyang-county.geojson', countiesDir), 'utf8'));
  const geometry = geo.features[0].geometry;
  expect(geometry.type).toBe('Polygon');
  return geometry.coordinates as Ring[];
}

describe('the demo county', () => {
  it('deploy/counties/youyang-demo.json is the generator output (regenerate it when this fails)', async () => {
    const committed = await readFile(new URL('youyang-demo.json', countiesDir), 'utf8');
    expect(committed).toBe(`${JSON.stringify(buildDemoCounty(), null, 2)}\n`);
  });

  it('is deterministic, and the seed matters', () => {
    expect(buildDemoCounty()).toEqual(buildDemoCounty(1));
    expect(buildDemoCounty(2)).not.toEqual(buildDemoCounty(1));
  });

  it('says it is generated and by what', () => {
    expect(buildDemoCounty().$comment).toBe(DEMO_COUNTY_COMMENT);
    expect(DEMO_COUNTY_COMMENT).toContain('store/src/demo-county.ts');
  });

  const county = CountyConfig.parse(buildDemoCounty());

  it('parses with the protocol schema and is 酉阳', () => {
    expect(county.county).toMatchObject({ id: 'youyang', adcode: '500242', name: '酉阳土家族苗族自治县' });
    expect(county.county.center).toEqual({ lng: 108.767201, lat: 28.839828 });
  });

  it('has at least 20 institutions with 50–126 devices of every kind each', () => {
    expect(county.institutions.length).toBeGreaterThanOrEqual(20);
    for (const inst of county.institutions) {
      const devices = inst.gateways.flatMap((g) => g.devices);
      expect(devices.length, inst.id).toBeGreaterThanOrEqual(50);
      // 118 at most of the first four kinds (MAX_DEVICES), and 3–4 electrical circuits a building.
      expect(devices.length, inst.id).toBeLessThanOrEqual(126);
      for (const kind of DEVICE_KINDS)
        expect(
          devices.some((d) => d.kind === kind),
          `${inst.id} ${kind}`,
        ).toBe(true);
      expect(inst.beds).toBeGreaterThanOrEqual(20);
      expect(inst.beds).toBeLessThanOrEqual(400);
      expect(inst.gateways.length).toBeGreaterThanOrEqual(1);
      expect(inst.gateways.length).toBeLessThanOrEqual(2);
      for (const gw of inst.gateways) expect(gw.secret?.length ?? 0).toBeGreaterThanOrEqual(16);
      expect(inst.contacts.map((c) => c.role).sort()).toEqual(['deputy', 'duty_officer', 'fire_safety', 'manager']);
      expect(inst.address.startsWith('重庆市酉阳土家族苗族自治县')).toBe(true);
    }
  });

  it('places every institution inside the county outline', async () => {
    const outline = await countyOutline();
    // The test's own check: points just outside the outline are outside.
    expect(insidePolygon(108.767201, 28.839828, outline)).toBe(true);
    expect(insidePolygon(108.3, 28.84, outline)).toBe(false);
    expect(insidePolygon(109.3, 28.4, outline)).toBe(false);
    for (const inst of county.institutions) {
      expect(insidePolygon(inst.location.lng, inst.location.lat, outline), `${inst.id} ${inst.name}`).toBe(true);
    }
  });

  it('watches kitchens with heat detectors and sensors, and has cameras where seed 001 asks', () => {
    for (const inst of county.institutions) {
      const devices = inst.gateways.flatMap((g) => g.devices);
      const kitchen = devices.filter((d) => d.location.room.startsWith('厨房'));
      expect(
        kitchen.filter((d) => d.kind === 'fire').every((d) => d.name.includes('感温')),
        inst.id,
      ).toBe(true);
      expect(kitchen.filter((d) => d.kind === 'kitchen').length, inst.id).toBeGreaterThanOrEqual(1);
      const cameraRooms = new Set(devices.filter((d) => d.kind === 'camera').map((d) => d.location.room));
      for (const room of ['出入口', '接待大厅', '值班室', '走廊', '餐厅'])
        expect(cameraRooms.has(room), `${inst.id} ${room}`).toBe(true);
      const media = new Set(devices.map((d) => d.medium).filter(Boolean));
      expect([...media].sort()).toEqual(['dry_powder', 'hydrant_dynamic', 'hydrant_static', 'sprinkler']);
    }
  });
});
