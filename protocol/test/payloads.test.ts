import { describe, expect, it } from 'vitest';
import { decodeMessage, encodePayload, isFireAlarm, MAX_PAYLOAD_BYTES, primeDecoders, topics } from '../src/index.js';

const gw = { county: 'youyang', institution: 'yy-zhongduo', gateway: 'gw-1' };
const ts = Date.UTC(2026, 10, 23, 4, 0, 0);

describe('decodeMessage', () => {
  it('accepts a telemetry message of each kind', () => {
    const samples = [
      { v: 1, ts, seq: 1, kind: 'fire', battery: 87, signal: -71 },
      { v: 1, ts, seq: 2, kind: 'extinguisher', medium: 'dry_powder', pressure: 1.21 },
      { v: 1, ts, seq: 3, kind: 'kitchen', temperature: 38.5, gasLel: 2 },
      { v: 1, ts, seq: 4, kind: 'camera', online: true, streamOk: true, fps: 25, width: 1920, height: 1080 },
    ];
    for (const s of samples) {
      const r = decodeMessage(topics.telemetry(gw, 'd1'), JSON.stringify(s));
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (r.ok) expect(r.message.topic.type).toBe('telemetry');
    }
  });

  it('defaults an extinguisher medium to dry powder', () => {
    const r = decodeMessage(
      topics.telemetry(gw, 'e1'),
      JSON.stringify({ v: 1, ts, seq: 1, kind: 'extinguisher', pressure: 1.2 }),
    );
    expect(r.ok && r.message.type === 'telemetry' && r.message.payload).toMatchObject({ medium: 'dry_powder' });
  });

  it('recognises a fire alarm event', () => {
    const r = decodeMessage(
      topics.event(gw, 's1'),
      JSON.stringify({ v: 1, ts, seq: 9, kind: 'fire', event: 'fire', zone: '2F' }),
    );
    expect(r.ok).toBe(true);
    if (r.ok && r.message.type === 'event') expect(isFireAlarm(r.message.payload)).toBe(true);
    const fault = decodeMessage(
      topics.event(gw, 's1'),
      JSON.stringify({ v: 1, ts, seq: 10, kind: 'fire', event: 'fault' }),
    );
    expect(fault.ok && fault.message.type === 'event' && isFireAlarm(fault.message.payload)).toBe(false);
  });

  it('refuses invalid UTF-8 inside a JSON string instead of storing U+FFFD (RFC 8259 §8.1)', () => {
    const t = topics.event(gw, 's1');
    const json = JSON.stringify({ v: 1, ts, seq: 1, kind: 'fire', event: 'fire', zone: '2F XX' });
    // 0xC3 0x28: a two-byte lead followed by an ASCII byte; 0xFF never occurs in UTF-8.
    for (const bad of [Buffer.from([0xc3, 0x28]), Buffer.from([0xff])]) {
      const at = json.indexOf('XX');
      const payload = Buffer.concat([Buffer.from(json.slice(0, at)), bad, Buffer.from(json.slice(at + 2))]);
      // Decoded leniently, this is a valid fire alarm whose zone holds U+FFFD.
      expect(JSON.parse(payload.toString('utf8')).zone).toContain('\uFFFD');
      expect(decodeMessage(t, payload)).toMatchObject({ ok: false, reason: 'bad_utf8' });
    }
    // Valid multi-byte text still decodes.
    const chinese = Buffer.from(JSON.stringify({ v: 1, ts, seq: 2, kind: 'fire', event: 'fire', zone: '二楼厨房' }));
    const ok = decodeMessage(topics.event(gw, 's1'), chinese);
    expect(ok.ok && ok.message.type === 'event' && ok.message.payload).toMatchObject({ zone: '二楼厨房' });
  });

  it('rejects with a reason', () => {
    const t = topics.telemetry(gw, 'd1');
    expect(decodeMessage('anlian/v1/x', '{}')).toMatchObject({ ok: false, reason: 'bad_topic' });
    expect(decodeMessage(t, '{not json')).toMatchObject({ ok: false, reason: 'bad_json' });
    expect(decodeMessage(t, 'x'.repeat(MAX_PAYLOAD_BYTES + 1))).toMatchObject({ ok: false, reason: 'too_large' });
    const noSeq = decodeMessage(t, JSON.stringify({ v: 1, ts, kind: 'kitchen', temperature: 20 }));
    expect(noSeq).toMatchObject({ ok: false, reason: 'bad_schema' });
    expect(!noSeq.ok && noSeq.detail).toMatch(/seq/);
    // A kitchen event type on a fire detector is not part of the contract.
    expect(
      decodeMessage(topics.event(gw, 'd1'), JSON.stringify({ v: 1, ts, seq: 1, kind: 'fire', event: 'overheat' })),
    ).toMatchObject({
      ok: false,
      reason: 'bad_schema',
    });
    // Unknown fields are refused rather than silently stored.
    expect(
      decodeMessage(t, JSON.stringify({ v: 1, ts, seq: 1, kind: 'kitchen', temperature: 20, extra: 1 })),
    ).toMatchObject({
      ok: false,
      reason: 'bad_schema',
    });
    expect(decodeMessage(t, JSON.stringify({ v: 2, ts, seq: 1, kind: 'kitchen', temperature: 20 }))).toMatchObject({
      ok: false,
      reason: 'bad_schema',
    });
  });

  it('encodePayload validates before serializing', () => {
    expect(JSON.parse(encodePayload('status', { v: 1, ts, seq: 0, state: 'offline', reason: 'will' }))).toMatchObject({
      state: 'offline',
    });
    expect(() => encodePayload('telemetry', { v: 1, ts, seq: 1, kind: 'kitchen' } as never)).toThrow();
  });
});

describe('primeDecoders (issue 12)', () => {
  it('decodes its examples of every event kind, status and command reply without throwing, once', () => {
    expect(() => primeDecoders()).not.toThrow();
    expect(() => primeDecoders()).not.toThrow();
  });
});
