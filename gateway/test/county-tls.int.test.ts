import { createTestCertificates, type TestCertificates } from '@anlian/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../src/gateway-service.js';
import { silentLogger } from '../src/logger.js';
import { type CountyIngest, startCountyIngest, testDevices } from './support/county-ingest.js';
import { gatewayConfig, tempDir, waitFor } from './support/gateway-fixture.js';

/**
 * The real gateway across the internet: `county.url` mqtts://, `county.caFile` the county's CA.
 * The county is `anlian up`'s embedded broker with its mqtts listener configured from the
 * environment (ANLIAN_MQTT_TLS_PORT / _CERT / _KEY), as an operator would.
 */
describe('the county link over TLS', () => {
  const devices = testDevices(3);
  let certs: TestCertificates;
  let stranger: TestCertificates;
  let county: CountyIngest;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    [certs, stranger] = await Promise.all([
      createTestCertificates(),
      createTestCertificates({ caName: 'Somebody else’s CA' }),
    ]);
    county = await startCountyIngest(devices, { tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  afterAll(async () => {
    await county?.close();
    await certs?.remove();
    await stranger?.remove();
  });

  async function startGateway(caFile: string) {
    const data = await tempDir();
    cleanups.push(data.remove);
    const url = county.tlsUrl ?? '';
    const base = gatewayConfig({ url, dataDir: data.dir, devices });
    const gateway = buildGateway({
      config: { ...base, county: { ...base.county, caFile } },
      logger: silentLogger(),
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    return gateway;
  }

  it('verifies the county’s certificate with county.caFile, connects, and delivers what it queued', async () => {
    expect(county.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const gateway = await startGateway(certs.caFile);
    expect(await waitFor(() => gateway.uplink.connected)).toBe(true);
    const ts = Date.now();
    const device = devices[0];
    if (!device) throw new Error('no device');
    expect(
      gateway.submit({ device: device.id, message: 'event', ts, fields: { event: 'fire', zone: '主楼 1F' } }).ok,
    ).toBe(true);
    const fire = await waitFor(() =>
      county.received.find((e) => e.type === 'event' && e.device === device.id && e.payload.ts === ts),
    );
    expect(fire).toMatchObject({ type: 'event', gateway: 'gw-edge-1', payload: { event: 'fire' } });
  });

  it('does not connect to a county whose certificate its CA did not sign, and says why', async () => {
    const gateway = await startGateway(stranger.caFile);
    const failed = await waitFor(() => gateway.uplink.stats().lastError, 10_000);
    expect(failed).toMatch(/self[- ]signed certificate in certificate chain|unable to verify/i);
    expect(gateway.uplink.connected).toBe(false);
  });
});
