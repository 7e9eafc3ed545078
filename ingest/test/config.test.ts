import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from '../src/config.js';

describe('loadIngestConfig', () => {
  it('has working defaults: embedded broker, SQLite and spool in the data directory, InfluxDB 1.x', () => {
    const c = loadIngestConfig({});
    expect(c.broker).toEqual({ mode: 'embedded' });
    expect(c.mqtt).toEqual({ host: '0.0.0.0', port: 1883 });
    expect(c.sqlitePath).toBe(path.resolve('.anlian', 'anlian.db'));
    expect(c.spoolDir).toBe(path.resolve('.anlian', 'spool'));
    expect(c.influx.target).toEqual({ url: 'http://127.0.0.1:8086', generation: 1, database: 'anlian' });
    expect(c.influx.eventsRetentionPolicy).toBe('events_1y');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('switches to an external broker with a shared subscription group', () => {
    const c = loadIngestConfig({ ANLIAN_BROKER_URL: 'mqtt://broker:1883', ANLIAN_BROKER_CLIENT_ID: 'ingest-2' });
    expect(c.broker).toMatchObject({
      mode: 'external',
      url: 'mqtt://broker:1883',
      clientId: 'ingest-2',
      shareGroup: 'ingest',
    });
  });

  it('lists every problem at once, by variable', () => {
    let message = '';
    try {
      loadIngestConfig({
        ANLIAN_MQTT_PORT: '70000',
        INFLUX_GENERATION: '2',
        INFLUX_URL: 'not a url',
        ANLIAN_BROKER_URL: 'http://x',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^ANL_ERR_CONFIG/);
    for (const name of ['ANLIAN_MQTT_PORT', 'INFLUX_URL']) expect(message).toContain(name);
  });

  it('asks for the organisation of an InfluxDB 2.x', () => {
    expect(() => loadIngestConfig({ INFLUX_GENERATION: '2' })).toThrow(/INFLUX_ORG: required when INFLUX_GENERATION=2/);
    expect(
      loadIngestConfig({ INFLUX_GENERATION: '2', INFLUX_ORG: 'county', INFLUX_TOKEN: 't' }).influx.target,
    ).toMatchObject({
      generation: 2,
      org: 'county',
      token: 't',
    });
  });

  it('adds the embedded broker’s mqtts listener when port, certificate and key are all given', () => {
    const c = loadIngestConfig({
      ANLIAN_MQTT_TLS_PORT: '8883',
      ANLIAN_MQTT_TLS_CERT: 'tls/broker.crt',
      ANLIAN_MQTT_TLS_KEY: 'tls/broker.key',
    });
    expect(c.mqtt.tls).toEqual({
      port: 8883,
      certFile: path.resolve('tls/broker.crt'),
      keyFile: path.resolve('tls/broker.key'),
    });
    expect(() => loadIngestConfig({ ANLIAN_MQTT_TLS_PORT: '8883' })).toThrow(
      /ANLIAN_MQTT_TLS_CERT: the mqtts listener needs[\s\S]*ANLIAN_MQTT_TLS_KEY: the mqtts listener needs/,
    );
    expect(() => loadIngestConfig({ ANLIAN_MQTT_TLS_CERT: 'c', ANLIAN_MQTT_TLS_KEY: 'k' })).toThrow(
      /ANLIAN_MQTT_TLS_PORT/,
    );
  });

  it('reads the external broker’s CA file setting', () => {
    const c = loadIngestConfig({
      ANLIAN_BROKER_URL: 'mqtts://broker:8883',
      ANLIAN_BROKER_CA_FILE: '/etc/anlian/ca.crt',
    });
    expect(c.broker).toMatchObject({ mode: 'external', caFile: '/etc/anlian/ca.crt' });
  });
});
