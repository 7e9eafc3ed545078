import { describe, expect, it } from 'vitest';
import { eventLine, heartbeatLine, statusLine, telemetryLine } from '../../src/pipeline/line-protocol.js';

const ctx = { county: 'youyang', institution: 'yy-a', gateway: 'gw-1', receivedAt: 1_763_870_400_500, confirmed: true };
const ts = 1_763_870_400_000;

describe('line protocol', () => {
  it('writes telemetry with bounded tags and float fields', () => {
    expect(
      telemetryLine(ctx, 'ext-1', { v: 1, ts, seq: 42, kind: 'extinguisher', medium: 'dry_powder', pressure: 1 }),
    ).toBe(
      'extinguisher,county=youyang,device=ext-1,gateway=gw-1,institution=yy-a,medium=dry_powder,type=telemetry lagMs=500i,pressure=1,seq=42i 1763870400000',
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
});
