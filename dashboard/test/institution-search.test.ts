import { describe, expect, it } from 'vitest';
import { matchesInstitution, townOf } from '../src/registry/institution-search.js';

describe('townOf', () => {
  it('finds the town (乡镇 / 街道) after the county-level part of an address', () => {
    expect(townOf('重庆市酉阳土家族苗族自治县龙潭镇梭米路59号')).toBe('龙潭镇');
    expect(townOf('重庆市酉阳土家族苗族自治县桃花源街道桃花源大道163号')).toBe('桃花源街道');
    expect(townOf('重庆市酉阳土家族苗族自治县可大乡可大街118号')).toBe('可大乡');
    // 市 inside a town's name, 镇 inside a county's name, 区 in a road after the town.
    expect(townOf('重庆市酉阳土家族苗族自治县涂市镇涂市街68号')).toBe('涂市镇');
    expect(townOf('陕西省商洛市镇安县云盖寺镇1号')).toBe('云盖寺镇');
    expect(townOf('重庆市酉阳土家族苗族自治县龙潭镇工业园区1号')).toBe('龙潭镇');
    // A county-level city, a city district.
    expect(townOf('四川省成都市都江堰市灌口街道2号')).toBe('灌口街道');
    expect(townOf('重庆市渝中区解放碑街道')).toBe('解放碑街道');
    expect(townOf('测试路1号')).toBe('');
  });

  it('matches any part of the name, id or address, ignoring case and spaces around', () => {
    const i = { id: 'yy-longtan', name: '龙潭镇中心敬老院', address: '重庆市酉阳土家族苗族自治县龙潭镇梭米路59号' };
    for (const q of ['龙潭', 'YY-LONG', '梭米路', ' 中心 ', '']) expect(matchesInstitution(i, q)).toBe(true);
    expect(matchesInstitution(i, '麻旺')).toBe(false);
  });
});
