import type { CountyConfigInput } from '@anlian/protocol';

type InstitutionInput = CountyConfigInput['institutions'][number];

/** What a test says of one of the fixture's institutions: its gateways, and what else it needs. */
export type FixtureInstitution = Pick<InstitutionInput, 'gateways'> & Partial<InstitutionInput>;

/** Where a fixture's device hangs: a room of building 1. */
export const fixtureRoom = (room: string, floor = '2层') => ({ building: '1号楼', floor, room });

/**
 * The tests' county: 酉阳 (`youyang`) with institution `yy-a` (桃花源养老院, 80 beds, manager
 * 龙丽萍) and `yy-b` (龙潭敬老院, 40 beds, manager 冉小红). A test gives each institution's
 * gateways and overrides what its case is about (contacts, beds …).
 */
export function twoInstitutionCounty(a: FixtureInstitution, b: FixtureInstitution): CountyConfigInput {
  return {
    county: { id: 'youyang', name: '酉阳土家族苗族自治县', adcode: '500242' },
    institutions: [
      {
        id: 'yy-a',
        name: '桃花源养老院',
        address: '酉阳县桃花源街道',
        location: { lng: 108.77, lat: 28.84 },
        beds: 80,
        contacts: [{ id: 'mgr', name: '龙丽萍', role: 'manager', phone: '13800130100' }],
        ...a,
      },
      {
        id: 'yy-b',
        name: '龙潭敬老院',
        address: '酉阳县龙潭镇',
        location: { lng: 108.9, lat: 28.9 },
        beds: 40,
        contacts: [{ id: 'mgr', name: '冉小红', role: 'manager', phone: '13800130200' }],
        ...b,
      },
    ],
  };
}
