import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mosquittoHash } from '@anlian/store';
import { afterEach, describe, expect, it } from 'vitest';
import { mosquittoConfigSnippet, writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'anlian-mosq-cfg-'));
  dirs.push(d);
  return d;
}

const HASH = mosquittoHash('s3cret', { salt: Buffer.alloc(12, 1) });
const ingestUser = {
  role: 'ingest' as const,
  username: 'ingest',
  mosquittoHash: mosquittoHash('ingest-pw', { salt: Buffer.alloc(12, 2) }),
};
const alertingUser = {
  role: 'alerting' as const,
  username: 'alerting',
  mosquittoHash: mosquittoHash('alerting-pw', { salt: Buffer.alloc(12, 3) }),
};
const dashboardUser = {
  role: 'dashboard' as const,
  username: 'dashboard',
  mosquittoHash: mosquittoHash('dashboard-pw', { salt: Buffer.alloc(12, 4) }),
};

describe('writeMosquittoAuthFiles', () => {
  it('writes a password line per gateway and service, explicit per-gateway ACL rules and each service role’s, mode 0600', async () => {
    const dir = join(await tempDir(), 'auth');
    const report = await writeMosquittoAuthFiles({
      credentials: [
        { gatewayId: 'gw-b', county: 'youyang', institution: 'yy-b', mosquittoHash: HASH },
        { gatewayId: 'gw-a', county: 'youyang', institution: 'yy-a', mosquittoHash: HASH },
      ],
      services: [ingestUser, alertingUser, dashboardUser],
      dir,
    });
    expect(report).toEqual({
      passwordFile: join(dir, 'passwd'),
      aclFile: join(dir, 'acl'),
      gateways: 2,
      services: ['ingest', 'alerting', 'dashboard'],
      skipped: [],
    });
    const passwd = await readFile(report.passwordFile, 'utf8');
    expect(passwd).toBe(
      [
        `ingest:${ingestUser.mosquittoHash}`,
        `alerting:${alertingUser.mosquittoHash}`,
        `dashboard:${dashboardUser.mosquittoHash}`,
        `gw-a:${HASH}`,
        `gw-b:${HASH}`,
        '',
      ].join('\n'),
    );
    expect(HASH).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);

    const acl = await readFile(report.aclFile, 'utf8');
    const P = 'anlian/v1/youyang/yy-a/gw-a';
    const block = (user: string) => {
      const lines = acl.split('\n');
      const start = lines.indexOf(`user ${user}`);
      expect(start, user).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && (l === '' || l.startsWith('user ')));
      return lines.slice(start + 1, end === -1 ? undefined : end);
    };
    expect(block('gw-a')).toEqual([
      `topic write ${P}/status`,
      `topic write ${P}/heartbeat`,
      `topic write ${P}/device/+/telemetry`,
      `topic write ${P}/device/+/event`,
      `topic write ${P}/device/+/snapshot`,
      `topic write ${P}/cmd/+/reply`,
      `topic read ${P}/cmd/+`,
    ]);
    // ingest reads and announces stored pictures; alerting sends commands and alert changes; a dashboard only reads.
    expect(block('ingest')).toEqual(['topic read anlian/v1/#', 'topic write anlian-county/v1/+/media/+']);
    expect(block('alerting')).toEqual([
      'topic read anlian/v1/#',
      'topic write anlian/v1/+/+/+/cmd/+',
      'topic readwrite anlian-county/v1/#',
    ]);
    expect(block('dashboard')).toEqual(['topic read anlian/v1/#', 'topic read anlian-county/v1/#']);
    // No gateway may touch the county-internal topics.
    expect(acl.match(/anlian-county/g)).toHaveLength(3);
    // No gateway may write its own commands, and no rule uses `#` under a gateway prefix.
    expect(acl).not.toMatch(/write anlian\/v1\/[^+][^\n]*\/cmd\/\+\n/);
    expect(acl).not.toMatch(/anlian\/v1\/youyang\/[^\n]*#/);

    for (const f of [report.passwordFile, report.aclFile]) {
      expect((await stat(f)).mode & 0o777, f).toBe(0o600);
    }
    expect((await readdir(dir)).sort()).toEqual(['acl', 'passwd']);
  });

  it('skips gateways without a mosquitto hash or with unusable data, and reports why', async () => {
    const dir = await tempDir();
    const report = await writeMosquittoAuthFiles({
      credentials: [
        { gatewayId: 'gw-ok', county: 'c', institution: 'i', mosquittoHash: HASH },
        { gatewayId: 'gw-nohash', county: 'c', institution: 'i', mosquittoHash: null },
        { gatewayId: 'gw-badhash', county: 'c', institution: 'i', mosquittoHash: 'scrypt$16384$8$1$x$y' },
        { gatewayId: 'gw-colon', county: 'c', institution: 'i', mosquittoHash: `${HASH}:extra` },
        { gatewayId: 'gw/evil', county: 'c', institution: 'i', mosquittoHash: HASH },
        { gatewayId: 'gw-x', county: 'c', institution: '#', mosquittoHash: HASH },
        { gatewayId: 'gw-nl', county: 'c\nuser ingest', institution: 'i', mosquittoHash: HASH },
        { gatewayId: 'ingest', county: 'c', institution: 'i', mosquittoHash: HASH },
        { gatewayId: 'gw-ok', county: 'c', institution: 'i2', mosquittoHash: HASH },
      ],
      services: [ingestUser],
      dir,
    });
    expect(report.gateways).toBe(1);
    expect(report.skipped.map((s) => s.gatewayId).sort()).toEqual(
      ['gw-badhash', 'gw-colon', 'gw-nl', 'gw-nohash', 'gw-ok', 'gw-x', 'gw/evil', 'ingest'].sort(),
    );
    expect(report.skipped.find((s) => s.gatewayId === 'gw-nohash')?.reason).toMatch(/no mosquitto password hash/);
    const passwd = await readFile(report.passwordFile, 'utf8');
    expect(
      passwd
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0]),
    ).toEqual(['ingest', 'gw-ok']);
    const acl = await readFile(report.aclFile, 'utf8');
    expect(acl.match(/^user /gm)).toHaveLength(2);
  });

  it('replaces existing files atomically and leaves no temporary files', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'passwd'), 'old:content\n');
    await writeMosquittoAuthFiles({ credentials: [], services: [ingestUser], dir });
    expect(await readFile(join(dir, 'passwd'), 'utf8')).toBe(`ingest:${ingestUser.mosquittoHash}\n`);
    expect((await readdir(dir)).sort()).toEqual(['acl', 'passwd']);
  });

  it('refuses a service account that mosquitto files cannot hold, and two accounts of one name', async () => {
    const dir = await tempDir();
    for (const username of ['in:gest', 'in gest', '', 'a\nuser b', '#']) {
      await expect(
        writeMosquittoAuthFiles({ credentials: [], services: [{ ...ingestUser, username }], dir }),
      ).rejects.toThrow(/invalid ingest username/);
    }
    await expect(
      writeMosquittoAuthFiles({ credentials: [], services: [{ ...alertingUser, mosquittoHash: 'plain' }], dir }),
    ).rejects.toThrow(/alerting user hash is not a mosquitto/);
    await expect(
      writeMosquittoAuthFiles({
        credentials: [],
        services: [ingestUser, { ...dashboardUser, username: 'ingest' }],
        dir,
      }),
    ).rejects.toThrow(/two service accounts/);
  });
});

describe('mosquittoConfigSnippet', () => {
  it('adds a plain listener and a TLS listener (TLS 1.2 at least) after the authentication lines', () => {
    const snippet = mosquittoConfigSnippet('/etc/anlian/mosquitto', [
      { port: 1883, host: '10.0.0.5' },
      { port: 8883, tls: { certFile: '/etc/anlian/tls/broker.crt', keyFile: '/etc/anlian/tls/broker.key' } },
    ]);
    const lines = snippet.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual([
      'per_listener_settings false',
      'allow_anonymous false',
      'password_file /etc/anlian/mosquitto/passwd',
      'acl_file /etc/anlian/mosquitto/acl',
      'listener 1883 10.0.0.5',
      'listener 8883',
      'certfile /etc/anlian/tls/broker.crt',
      'keyfile /etc/anlian/tls/broker.key',
      'tls_version tlsv1.2',
    ]);
    expect(() => mosquittoConfigSnippet('/x', [{ port: 1, host: 'a\nallow_anonymous true' }])).toThrow(/line break/);
  });

  it('turns off anonymous access and points at the two files', () => {
    expect(mosquittoConfigSnippet('/etc/anlian/mosquitto')).toBe(
      [
        '# Anlian gateway authentication and per-gateway topic ACL (files from `anlian broker-config`)',
        'per_listener_settings false',
        'allow_anonymous false',
        'password_file /etc/anlian/mosquitto/passwd',
        'acl_file /etc/anlian/mosquitto/acl',
        '',
      ].join('\n'),
    );
  });
});
