import { createRequire } from 'node:module';
import { reservePort } from '@anlian/testing';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { LanMqttAdapter } from '../src/adapters/lan-mqtt-adapter.js';
import { buildGateway } from '../src/gateway-service.js';
import { silentLogger } from '../src/logger.js';
import { testDevices } from './support/county-ingest.js';
import { gatewayConfig, tempDir } from './support/gateway-fixture.js';

// mqtt-packet is the encoder of both mqtt.js (the county link) and aedes (the LAN broker), one
// module in the process. Unless told otherwise it builds, on the first packet either writes, a
// cache of 65,536 two-byte Buffers for packet ids: ~7 MB of heap for as long as the gateway runs.
// Alone in its file on purpose: the module's state is per test file (vitest isolates files), and
// nothing may write an MQTT packet here before the gateway has started.
const require = createRequire(import.meta.url);
const { writeToStream } = require('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } };
const { cache } = require('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('the gateway’s MQTT encoders', () => {
  it('keep no packet-id cache, LAN broker included', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    // Nothing listens at the county address: the county client exists, which is what matters.
    const silent = await reservePort();
    cleanups.push(() => silent.release());
    const county = `mqtt://127.0.0.1:${silent.port}`;
    const gateway = buildGateway({
      config: gatewayConfig({
        url: county,
        dataDir: data.dir,
        devices: testDevices(2),
        overrides: {
          county: { url: county, password: 'x-secret-x', reconnect: { initialMs: 60_000, maxMs: 60_000 } },
          adapters: [{ type: 'lan-mqtt', host: '127.0.0.1', port: 0 }],
        },
      }),
      logger: silentLogger(),
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const adapter = gateway.adapters()[0] as LanMqttAdapter;

    // The LAN broker writes a CONNACK and a PUBACK, the sensor a CONNECT and a PUBLISH.
    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${adapter.port}`, { reconnectPeriod: 0 });
    cleanups.push(() => sensor.endAsync(true));
    await sensor.publishAsync('sensors/dev-000/telemetry', '{"battery": 87}', { qos: 1 });
    expect(gateway.queue.depth()).toBe(1);

    expect(writeToStream.cacheNumbers).toBe(false);
    expect(Object.keys(cache)).toHaveLength(0);
  });
});
