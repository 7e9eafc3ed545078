import { describe, expect, it } from 'vitest';
import { gatewayPrefix, parseTopic, topics } from '../src/index.js';

const gw = { county: 'youyang', institution: 'yy-zhongduo', gateway: 'gw-yy-zhongduo-1' };

describe('topic builders', () => {
  it('build every topic under the gateway prefix', () => {
    expect(gatewayPrefix(gw)).toBe('anlian/v1/youyang/yy-zhongduo/gw-yy-zhongduo-1');
    expect(topics.status(gw)).toBe('anlian/v1/youyang/yy-zhongduo/gw-yy-zhongduo-1/status');
    expect(topics.telemetry(gw, 'smoke-101')).toBe(
      'anlian/v1/youyang/yy-zhongduo/gw-yy-zhongduo-1/device/smoke-101/telemetry',
    );
    expect(topics.event(gw, 'smoke-101')).toBe('anlian/v1/youyang/yy-zhongduo/gw-yy-zhongduo-1/device/smoke-101/event');
    expect(topics.commandReply(gw, 'ping')).toBe('anlian/v1/youyang/yy-zhongduo/gw-yy-zhongduo-1/cmd/ping/reply');
    expect(topics.sharedAll('ingest')).toBe('$share/ingest/anlian/v1/#');
  });

  it('refuse ids that would change the topic structure', () => {
    for (const bad of ['a/b', '+', '#', '$SYS', '', 'with space', 'x'.repeat(65)]) {
      expect(() => topics.telemetry(gw, bad)).toThrow(/invalid device id/);
      expect(() => topics.status({ ...gw, gateway: bad })).toThrow(/invalid gateway id/);
    }
  });
});

describe('parseTopic', () => {
  it('round-trips every builder', () => {
    expect(parseTopic(topics.status(gw))).toEqual({ type: 'status', ...gw });
    expect(parseTopic(topics.heartbeat(gw))).toEqual({ type: 'heartbeat', ...gw });
    expect(parseTopic(topics.telemetry(gw, 'k1'))).toEqual({ type: 'telemetry', device: 'k1', ...gw });
    expect(parseTopic(topics.event(gw, 'k1'))).toEqual({ type: 'event', device: 'k1', ...gw });
    expect(parseTopic(topics.command(gw, 'ping'))).toEqual({ type: 'command', name: 'ping', ...gw });
    expect(parseTopic(topics.commandReply(gw, 'ping'))).toEqual({ type: 'command-reply', name: 'ping', ...gw });
  });

  it('returns null for anything outside the contract', () => {
    for (const t of [
      'anlian/v2/youyang/i/g/status',
      'anlian/v1/youyang/i/status',
      'anlian/v1/youyang/i/g/status/extra',
      'anlian/v1/youyang/i/g/device/d',
      'anlian/v1/youyang/i/g/device/d/telemetry/x',
      'anlian/v1/youyang/i/g/device/+/telemetry',
      'anlian/v1/youyang/i/g/device//telemetry',
      'anlian/v1/+/i/g/status',
      'anlian/v1/youyang/i/g/cmd/ping/ack',
      '$SYS/broker/clients',
      '',
    ]) {
      expect(parseTopic(t), t).toBeNull();
    }
  });
});
