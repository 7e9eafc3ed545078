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
const ingestUser = { username: 'ingest', mosquittoHash: mosquittoHash('ingest-pw', { salt: Buffer.alloc(12, 2) }) };

describe('writeMosquittoAuthFiles', () => {
  it('writes a password line per gateway and explicit per-gateway ACL rules, mode 0600', async () => {
    const dir = join(await tempDir(), 'auth');
    const report = await writeMosquittoAuthFiles({
      credentials: [
        { gatewayId: 'gw-b', county: 'youyang', institution: 'yy-b', mosquittoHash: HASH },
        { gatewayId: 'gw-a', county: 'youyang', institution: 'yy-a', mosquittoHash: HASH },
      ],
      ingestUser,
      dir,
    });
    expect(report).toEqual({
      passwordFile: join(dir, 'passwd'),
      aclFile: join(dir, 'acl'),
      gateways: 2,
      skipped: [],
    });
    const passwd = await readFile(report.passwordFile, 'utf8');
    expect(passwd).toBe(`ingest:${ingestUser.mosquittoHash}\ngw-a:${HASH}\ngw-b:${HASH}\n`);
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
      `topic write ${P}/cmd/+/reply`,
      `topic read ${P}/cmd/+`,
    ]);
    expect(block('ingest')).toEqual(['topic read anlian/v1/#', 'topic write anlian/v1/+/+/+/cmd/+']);
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
      ingestUser,
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
    await writeMosquittoAuthFiles({ credentials: [], ingestUser, dir });
    expect(await readFile(join(dir, 'passwd'), 'utf8')).toBe(`ingest:${ingestUser.mosquittoHash}\n`);
    expect((await readdir(dir)).sort()).toEqual(['acl', 'passwd']);
  });

  it('refuses an ingest user that mosquitto files cannot hold', async () => {
    const dir = await tempDir();
    for (const username of ['in:gest', 'in gest', '', 'a\nuser b', '#']) {
      await expect(
        writeMosquittoAuthFiles({ credentials: [], ingestUser: { ...ingestUser, username }, dir }),
      ).rejects.toThrow(/invalid ingest username/);
    }
    await expect(
      writeMosquittoAuthFiles({ credentials: [], ingestUser: { username: 'ingest', mosquittoHash: 'plain' }, dir }),
    ).rejects.toThrow(/not a mosquitto/);
  });
});

describe('mosquittoConfigSnippet', () => {
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
