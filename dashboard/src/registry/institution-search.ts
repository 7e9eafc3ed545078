/**
 * The town (乡镇 / 街道) of a Chinese address, the level operators sort institutions by:
 * `重庆市酉阳土家族苗族自治县龙潭镇梭米路12号` → `龙潭镇`. Empty when the address names none.
 */
export function townOf(address: string): string {
  // After the county-level part (县, 旗, 区; a county-level city's 市 when there is none), up to
  // the first 街道, 镇 or 乡: `涂市镇` keeps its 市, `镇安县云盖寺镇` is not `镇`.
  const county = /^.*?(?:县|旗|区)/.exec(address)?.[0].length ?? 0;
  const rest = address.slice(county);
  const town = /^(.{1,12}?(?:街道|镇|乡))/.exec(
    county > 0 ? rest : rest.replace(/^.*市(?=.{1,12}?(?:街道|镇|乡))/, ''),
  );
  return town?.[1] ?? '';
}

/** Whether an institution matches what an operator typed: any part of its name, id, address or town. */
export function matchesInstitution(i: { id: string; name: string; address: string }, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  return [i.name, i.id, i.address].some((s) => s.toLowerCase().includes(q));
}
