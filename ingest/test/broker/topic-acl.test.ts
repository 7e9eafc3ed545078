import { topics } from '@anlian/protocol';
import type { GatewayIdentity } from '@anlian/store';
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from '../../src/broker/topic-acl.js';

const gw: GatewayIdentity = { id: 'gw-1', county: 'youyang', institution: 'yy-a', enabled: true };
const other: GatewayIdentity = { id: 'gw-2', county: 'youyang', institution: 'yy-a', enabled: true };
const a = { county: gw.county, institution: gw.institution, gateway: gw.id };
const o = { county: other.county, institution: other.institution, gateway: other.id };
const P = 'anlian/v1/youyang/yy-a/gw-1';

describe('mayPublish', () => {
  it('allows every gateway → county topic under its own prefix', () => {
    for (const t of [
      topics.status(a),
      topics.heartbeat(a),
      topics.telemetry(a, 'smoke-101'),
      topics.event(a, 'smoke-101'),
      topics.commandReply(a, 'ping'),
    ]) {
      expect(mayPublish(gw, t), t).toEqual({ allowed: true });
    }
  });

  it.each([
    [topics.status(o), 'other_gateway'],
    [topics.telemetry(o, 'd1'), 'other_gateway'],
    [topics.commandReply(o, 'ping'), 'other_gateway'],
    ['anlian/v1/youyang/yy-b/gw-1/status', 'other_gateway'], // same gateway id, other institution
    ['anlian/v1/qianjiang/yy-a/gw-1/status', 'other_gateway'], // other county
    ['anlian/v1/youyang/yy-a/gw-10/status', 'other_gateway'], // prefix of the id is not the id
    [topics.command(a, 'ping'), 'wrong_direction'],
    [topics.command(a, 'reload'), 'wrong_direction'],
    ['$SYS/x', 'reserved'],
    ['$SYS/broker/clients', 'reserved'],
    [`$share/g/${P}/status`, 'reserved'],
    [`${P}/+`, 'wildcard'],
    [`${P}/#`, 'wildcard'],
    [`${P}/device/+/telemetry`, 'wildcard'],
    ['anlian/v1/+/+/+/status', 'wildcard'],
    ['#', 'wildcard'],
    [P, 'not_contract_topic'],
    [`${P}/`, 'not_contract_topic'],
    [`${P}/status/extra`, 'not_contract_topic'],
    [`${P}/device/d1`, 'not_contract_topic'],
    [`${P}/device/d1/telemetry/x`, 'not_contract_topic'],
    [`${P}/device//telemetry`, 'not_contract_topic'],
    [`${P}/device/../telemetry`, 'not_contract_topic'],
    [`${P}/cmd/ping/ack`, 'not_contract_topic'],
    [`${P}/cmd//reply`, 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/../gw-2/status', 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/gw-1/../gw-2/status', 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/./gw-1/status', 'not_contract_topic'],
    ['/anlian/v1/youyang/yy-a/gw-1/status', 'not_contract_topic'],
    ['anlian/v2/youyang/yy-a/gw-1/status', 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/gw-1/STATUS', 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/gw-1 /status', 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/gw-1\u0000/status', 'not_contract_topic'],
    ['', 'not_contract_topic'],
  ])('denies %j (%s)', (topic, reason) => {
    const d = mayPublish(gw, topic);
    expect(d.allowed).toBe(false);
    if (!d.allowed) {
      expect(d.reason).toBe(reason);
      expect(d.detail.length).toBeGreaterThan(0);
    }
  });

  it('denies everything when the identity is not a valid prefix', () => {
    const bad: GatewayIdentity = { ...gw, id: 'gw/1' };
    const d = mayPublish(bad, 'anlian/v1/youyang/yy-a/gw/1/status');
    expect(d).toMatchObject({ allowed: false, reason: 'bad_identity' });
    expect(mayPublish({ ...gw, county: '+' }, topics.status(a))).toMatchObject({
      allowed: false,
      reason: 'bad_identity',
    });
  });
});

describe('maySubscribe', () => {
  it('allows its own command filters', () => {
    expect(maySubscribe(gw, topics.commandsOf(a))).toEqual({ allowed: true });
    expect(maySubscribe(gw, `${P}/cmd/+`)).toEqual({ allowed: true });
    expect(maySubscribe(gw, topics.command(a, 'ping'))).toEqual({ allowed: true });
    expect(maySubscribe(gw, `${P}/cmd/drill-start`)).toEqual({ allowed: true });
  });

  it.each([
    ['#', 'wildcard'],
    ['+/#', 'wildcard'],
    ['anlian/#', 'wildcard'],
    ['anlian/v1/#', 'wildcard'],
    [`${P}/#`, 'wildcard'],
    [`${P}/cmd/#`, 'wildcard'],
    [`${P}/cmd/+/#`, 'wildcard'],
    [`${P}/cmd/+/reply`, 'wildcard'],
    [`${P}/cmd/p+`, 'wildcard'],
    [`${P}/+`, 'wildcard'],
    [`${P}/+/+`, 'wildcard'],
    ['anlian/v1/youyang/yy-a/+/cmd/+', 'wildcard'],
    ['anlian/v1/+/+/+/cmd/+', 'wildcard'],
    ['+/v1/youyang/yy-a/gw-1/cmd/+', 'wildcard'],
    ['$SYS/#', 'reserved'],
    ['$SYS/broker/clients', 'reserved'],
    [`$share/g/${P}/cmd/+`, 'reserved'],
    ['$share/ingest/anlian/v1/#', 'reserved'],
    [topics.commandsOf(o), 'other_gateway'],
    [topics.command(o, 'ping'), 'other_gateway'],
    ['anlian/v1/youyang/yy-a/gw-10/cmd/ping', 'other_gateway'],
    [topics.status(a), 'wrong_direction'],
    [topics.telemetry(a, 'd1'), 'wrong_direction'],
    [topics.commandReply(a, 'ping'), 'wrong_direction'],
    [topics.telemetry(o, 'd1'), 'wrong_direction'],
    [`${P}/cmd/`, 'not_contract_topic'],
    [`${P}/cmd/../../gw-2/cmd/ping`, 'not_contract_topic'],
    [`${P}/cmd/ping/`, 'not_contract_topic'],
    [`${P}/cmd`, 'not_contract_topic'],
    ['anlian/v1/youyang/yy-a/gw-1/../gw-2/cmd/+', 'wildcard'],
    ['', 'not_contract_topic'],
  ])('denies %j (%s)', (filter, reason) => {
    const d = maySubscribe(gw, filter);
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.reason).toBe(reason);
  });

  it('denies everything when the identity is not a valid prefix', () => {
    expect(maySubscribe({ ...gw, id: '#' }, 'anlian/v1/youyang/yy-a/#/cmd/+')).toMatchObject({ allowed: false });
    expect(maySubscribe({ ...gw, institution: '' }, 'anlian/v1/youyang//gw-1/cmd/+')).toMatchObject({
      allowed: false,
      reason: 'bad_identity',
    });
  });
});
