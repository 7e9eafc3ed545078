import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { eventLine, heartbeatLine, statusLine, telemetryLine } from '../../src/pipeline/line-protocol.js';

const ctx = { county: 'youyang', institution: 'yy-a', gateway: 'gw-1', receivedAt: 1_763_870_400_500, confirmed: true };
const ts = 1_763_870_400_000;

describe('line protocol', () => {
  it('writes telemetry with bounded tags and float fields', () => {
    expect(
      telemetryLine(ctx, 'ext-1', { v: 1, ts, seq: 42, kind: 'extinguisher', medium: 'dry_powder', pressure: 1 }),
    ).toBe(
      'extinguisher,county=youyang,device=ext-1,gateway=gw-1,institution=yy-a,medium=dry_powder,type=telemetry pressure=1,seq=42i 1763870400000',
    );
  });

  it('keeps integer-by-nature fields integers and booleans booleans', () => {
    const l = telemetryLine(ctx, 'cam-1', {
      v: 1,
      ts,
      seq: 1,
      kind: 'camera',
      online: true,
      streamOk: false,
      width: 1920,
      height: 1080,
      fps: 25,
    });
    expect(l).toContain('width=1920i');
    expect(l).toContain('fps=25,');
    expect(l).toContain('streamOk=F');
  });

  it('marks unconfirmed devices and escapes free text', () => {
    const l = eventLine({ ...ctx, confirmed: false }, 's-1', {
      v: 1,
      ts,
      seq: 3,
      kind: 'fire',
      event: 'fire',
      zone: '2F 东区',
      detail: 'he said "fire", twice',
    });
    expect(l).toBe(
      'fire,county=youyang,device=s-1,gateway=gw-1,institution=yy-a,type=event detail="he said \\"fire\\", twice",event="fire",lagMs=500i,seq=3i,unconfirmed=T,zone="2F 东区" 1763870400000',
    );
  });

  it('writes gateway status and heartbeat to the gateway measurement', () => {
    expect(statusLine(ctx, { v: 1, ts, seq: 0, state: 'offline', reason: 'shutdown' })).toBe(
      'gateway,county=youyang,gateway=gw-1,institution=yy-a,type=status lagMs=500i,reason="shutdown",seq=0i,state="offline" 1763870400000',
    );
    // A will was composed at connect time: it is stored when the broker published it.
    expect(statusLine(ctx, { v: 1, ts: ts - 3_600_000, seq: 0, state: 'offline', reason: 'will' })).toBe(
      'gateway,county=youyang,gateway=gw-1,institution=yy-a,type=status composedTs=1763866800000i,lagMs=0i,reason="will",seq=0i,state="offline" 1763870400500',
    );
    const hb = heartbeatLine(ctx, {
      v: 1,
      ts,
      seq: 9,
      uptimeS: 30,
      queueDepth: 0,
      adapters: [
        { name: 'mqtt', ok: true },
        { name: 'modbus', ok: false },
      ],
    });
    expect(hb).toContain('adaptersOk=1i,adaptersTotal=2i');
  });

  it('escapes tag values with space, comma and equals', () => {
    const l = telemetryLine({ ...ctx, institution: 'yy a,b=c', gateway: 'gw 1' }, 'dev=1,x', {
      v: 1,
      ts,
      seq: 1,
      kind: 'fire',
      smoke: 0.5,
    } as never);
    expect(
      l.startsWith('fire,county=youyang,device=dev\\=1\\,x,gateway=gw\\ 1,institution=yy\\ a\\,b\\=c,type=telemetry '),
    ).toBe(true);
  });

  it('escapes backslash and quote in string fields and keeps newlines and Chinese text as they are', () => {
    const l = eventLine(ctx, 's-1', {
      v: 1,
      ts,
      seq: 3,
      kind: 'fire',
      event: 'fire',
      zone: '二楼\\东区',
      detail: 'line 1\nsaid "火警" \\ end',
    });
    expect(l).toBe(
      'fire,county=youyang,device=s-1,gateway=gw-1,institution=yy-a,type=event detail="line 1\nsaid \\"火警\\" \\\\ end",event="fire",lagMs=500i,seq=3i,zone="二楼\\\\东区" 1763870400000',
    );
  });

  it('writes Chinese tag values unescaped and escapes tag newlines and tabs', () => {
    const l = statusLine({ ...ctx, county: '酉阳', institution: 'a\tb\nc' }, { v: 1, ts, seq: 0, state: 'online' });
    expect(l).toBe(
      'gateway,county=酉阳,gateway=gw-1,institution=a\\tb\\nc,type=status lagMs=500i,seq=0i,state="online" 1763870400000',
    );
  });

  it('writes the same line as Point from @influxdata/influxdb-client', () => {
    const MS = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };
    const odd = ['plain', 'a b', 'a,b', 'a=b', 'a"b', 'a\\b', 'a\nb', '东区 2F', '', 'x\\', '\\"'];
    for (const text of odd) {
      for (const value of [0, -0, 1, 1.5, -2.25, 1e21, 1e-7, 0.1 + 0.2, 123456789.123]) {
        const c = { ...ctx, institution: text || 'i', confirmed: text !== 'plain' };
        const t = {
          v: 1 as const,
          ts,
          seq: 7,
          kind: 'kitchen' as const,
          temperature: value,
          note: text,
          ok: value > 1,
        };
        const ours = telemetryLine(c, `d ${text}`, t as never);
        const p = new Point('kitchen')
          .tag('county', c.county)
          .tag('institution', c.institution)
          .tag('gateway', c.gateway)
          .intField('seq', 7)
          .timestamp(ts)
          .tag('device', `d ${text}`)
          .tag('type', 'telemetry')
          .floatField('temperature', value)
          .stringField('note', text)
          .booleanField('ok', value > 1);
        if (!c.confirmed) p.booleanField('unconfirmed', true);
        expect(ours).toBe(p.toLineProtocol(MS));
      }
    }
  });

  it('refuses values InfluxDB cannot store', () => {
    expect(() =>
      telemetryLine(ctx, 'k-1', { v: 1, ts, seq: 1, kind: 'kitchen', temperature: Number.NaN } as never),
    ).toThrow(/invalid float/);
  });
});
