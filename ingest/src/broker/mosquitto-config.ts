import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { COUNTY_TOPIC_ROOT, gatewayPrefix, SegmentId, TOPIC_ROOT, topics } from '@anlian/protocol';

/** One gateway as the password file and ACL need it (the registry's `mosquittoCredentials()` rows). */
export interface MosquittoGatewayCredential {
  gatewayId: string;
  county: string;
  institution: string;
  /** `$7$…` as `mosquitto_passwd` writes it; `null` when the registry has no mosquitto hash for it. */
  mosquittoHash: string | null;
}

/** The county services that connect to the broker, each with its own account (production form). */
export const COUNTY_SERVICE_ROLES = ['ingest', 'alerting', 'dashboard'] as const;
export type CountyServiceRole = (typeof COUNTY_SERVICE_ROLES)[number];

/** A county service's broker account: its role chooses its ACL. */
export interface ServiceAccount {
  role: CountyServiceRole;
  username: string;
  /** `$7$…` as `mosquitto_passwd` writes it (`@anlian/store`'s `mosquittoHash`). */
  mosquittoHash: string;
}

/**
 * What each county service may do on the broker — no more (ARCHITECTURE.md, production form):
 * - ingest takes every gateway message on the shared subscription and announces each
 *   video-review picture it stored on the county topics (`anlian-county/v1/{county}/media/{institution}`);
 * - alerting reads every gateway message (its own sessions, never behind ingest's storage path),
 *   sends commands to gateways, and publishes and reads alert changes on the county topics;
 * - a dashboard node reads gateway messages (live state) and the county topics (alert changes,
 *   stored pictures).
 */
export const SERVICE_ACL: Readonly<Record<CountyServiceRole, { what: string; rules: readonly string[] }>> = {
  ingest: {
    what: 'ingest replicas: every gateway message (shared subscription), stored pictures announced on the county topics',
    rules: [`topic read ${TOPIC_ROOT}/#`, `topic write ${COUNTY_TOPIC_ROOT}/+/media/+`],
  },
  alerting: {
    what: 'alerting nodes: every gateway message, commands to gateways, alert changes on the county topics',
    rules: [
      `topic read ${TOPIC_ROOT}/#`,
      `topic write ${TOPIC_ROOT}/+/+/+/cmd/+`,
      `topic readwrite ${COUNTY_TOPIC_ROOT}/#`,
    ],
  },
  dashboard: {
    what: 'dashboard nodes: every gateway message (live state), alert changes and stored pictures on the county topics',
    rules: [`topic read ${TOPIC_ROOT}/#`, `topic read ${COUNTY_TOPIC_ROOT}/#`],
  },
};

export interface WriteMosquittoAuthFilesOptions {
  credentials: readonly MosquittoGatewayCredential[];
  /** The county services' accounts (ingest, alerting, dashboard), each with its role's ACL. */
  services: readonly ServiceAccount[];
  /** Where `passwd` and `acl` are written (created if missing). */
  dir: string;
}

export interface MosquittoAuthReport {
  passwordFile: string;
  aclFile: string;
  /** Gateways written to both files. */
  gateways: number;
  /** Service accounts written, by username. */
  services: string[];
  /** Gateways left out, and why: they cannot connect to the external broker until fixed. */
  skipped: { gatewayId: string; reason: string }[];
}

/**
 * A mosquitto 2 password hash: `$7$` = PBKDF2-HMAC-SHA512 (mosquitto_passwd's default since 2.0),
 * `$6$` = the older salted SHA-512. Both are `$`-separated base64, never `:` or whitespace,
 * which is what keeps a `username:hash` line one record.
 */
const MOSQUITTO_HASH =
  /^\$7\$[0-9]{1,7}\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$|^\$6\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/;

/** A username mosquitto's files can hold: no `:` (password file separator), no whitespace, no MQTT wildcards. */
const MOSQUITTO_USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

const isSegment = (s: string): boolean => SegmentId.safeParse(s).success;

/**
 * The ACL lines of one gateway. mosquitto's ACL cannot say "everything under my prefix except
 * `cmd/{name}`", and `#` would let a gateway publish commands to itself (and replies as the
 * county would see them), so the gateway → county topics are listed one by one.
 */
function gatewayAcl(c: MosquittoGatewayCredential): string[] {
  const a = { county: c.county, institution: c.institution, gateway: c.gatewayId };
  const prefix = gatewayPrefix(a);
  return [
    `user ${c.gatewayId}`,
    `topic write ${topics.status(a)}`,
    `topic write ${topics.heartbeat(a)}`,
    `topic write ${prefix}/device/+/telemetry`,
    `topic write ${prefix}/device/+/event`,
    // Video-review pictures of its cameras (视频复核): without this line mosquitto acknowledged
    // and dropped every snapshot a gateway sent to a production county.
    `topic write ${prefix}/device/+/snapshot`,
    `topic write ${prefix}/cmd/+/reply`,
    `topic read ${topics.commandsOf(a)}`,
  ];
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    // The mode argument of open() is filtered by the umask; the files hold password hashes.
    await handle.chmod(0o600);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
  // Make the rename itself durable.
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * Writes mosquitto 2's `passwd` (`username:$7$…` lines) and `acl` for the registry's gateways
 * and the county services' accounts, each atomically (temp file, fsync, rename) with mode 0600.
 * Send mosquitto SIGHUP to reload them.
 *
 * Each gateway may write only its own gateway → county topics and read only its own commands;
 * each service account gets its role's rules ({@link SERVICE_ACL}). mosquitto acknowledges and
 * drops a PUBLISH its ACL denies, and checks `read` when delivering, not when subscribing
 * (mosquitto 2.0: a SUBSCRIBE outside the ACL is granted and receives nothing).
 */
export async function writeMosquittoAuthFiles(opts: WriteMosquittoAuthFilesOptions): Promise<MosquittoAuthReport> {
  const seen = new Set<string>();
  const passwd: string[] = [];
  const acl: string[] = [
    '# Generated by Anlian (writeMosquittoAuthFiles); do not edit, regenerate with `anlian broker-config`.',
  ];
  for (const account of opts.services) {
    if (!MOSQUITTO_USERNAME.test(account.username)) {
      throw new TypeError(`invalid ${account.role} username for mosquitto: ${JSON.stringify(account.username)}`);
    }
    if (!MOSQUITTO_HASH.test(account.mosquittoHash)) {
      throw new TypeError(`the ${account.role} user hash is not a mosquitto $7$/$6$ hash`);
    }
    if (seen.has(account.username)) {
      throw new TypeError(`two service accounts are named ${JSON.stringify(account.username)}`);
    }
    seen.add(account.username);
    const { what, rules } = SERVICE_ACL[account.role];
    passwd.push(`${account.username}:${account.mosquittoHash}`);
    acl.push('', `# ${what}`, `user ${account.username}`, ...rules);
  }
  const services = [...seen];
  const skipped: MosquittoAuthReport['skipped'] = [];
  for (const c of [...opts.credentials].sort((x, y) => x.gatewayId.localeCompare(y.gatewayId))) {
    if (!isSegment(c.gatewayId) || !isSegment(c.county) || !isSegment(c.institution)) {
      skipped.push({
        gatewayId: c.gatewayId,
        reason: 'gateway, institution or county id is not a valid topic segment',
      });
      continue;
    }
    if (seen.has(c.gatewayId)) {
      skipped.push({ gatewayId: c.gatewayId, reason: 'duplicate username (another gateway or a service account)' });
      continue;
    }
    if (c.mosquittoHash === null) {
      skipped.push({
        gatewayId: c.gatewayId,
        reason: 'no mosquitto password hash in the registry: set its secret again to create one',
      });
      continue;
    }
    if (!MOSQUITTO_HASH.test(c.mosquittoHash)) {
      skipped.push({ gatewayId: c.gatewayId, reason: 'stored mosquitto hash is malformed' });
      continue;
    }
    seen.add(c.gatewayId);
    passwd.push(`${c.gatewayId}:${c.mosquittoHash}`);
    acl.push('', ...gatewayAcl(c));
  }
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(opts.dir, 'passwd');
  const aclFile = path.join(opts.dir, 'acl');
  await writeAtomically(passwordFile, `${passwd.join('\n')}\n`);
  await writeAtomically(aclFile, `${acl.join('\n')}\n`);
  return { passwordFile, aclFile, gateways: passwd.length - services.length, services, skipped };
}

/** A mosquitto listener for the snippet: plain MQTT, or MQTT over TLS when `tls` is given. */
export interface MosquittoListener {
  port: number;
  /** Bind address; every interface when left out. */
  host?: string;
  /** The broker's certificate and key (PEM files mosquitto can read), for an mqtts listener. */
  tls?: { certFile: string; keyFile: string };
}

const noLineBreak = (what: string, value: string): string => {
  if (/[\r\n]/.test(value)) throw new TypeError(`${what} contains a line break`);
  return value;
};

/**
 * The mosquitto.conf lines for the files written by `writeMosquittoAuthFiles`, then the given
 * listeners. Put them before any other `listener`: `per_listener_settings` must precede listener
 * options. An mqtts listener takes TLS 1.2 or newer (RFC 8996; mosquitto 2's `tls_version` is the
 * minimum); gateways verify the certificate against the county's CA (`county.caFile`).
 */
export function mosquittoConfigSnippet(dir: string, listeners: readonly MosquittoListener[] = []): string {
  const abs = noLineBreak('directory name', path.resolve(dir));
  return [
    '# Anlian gateway authentication and per-gateway topic ACL (files from `anlian broker-config`)',
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${path.join(abs, 'passwd')}`,
    `acl_file ${path.join(abs, 'acl')}`,
    ...mosquittoListenerLines(listeners),
    '',
  ].join('\n');
}

/** The mosquitto.conf lines of the listeners (after the authentication lines). */
export function mosquittoListenerLines(listeners: readonly MosquittoListener[]): string[] {
  const lines: string[] = [];
  for (const l of listeners) {
    const bind = l.host ? ` ${noLineBreak('listener host', l.host)}` : '';
    if (!l.tls) {
      lines.push(
        '',
        '# plain MQTT: county services on a private network (or loopback) only',
        `listener ${l.port}${bind}`,
      );
      continue;
    }
    lines.push(
      '',
      '# MQTT over TLS: gateways across the internet',
      `listener ${l.port}${bind}`,
      `certfile ${noLineBreak('certificate path', path.resolve(l.tls.certFile))}`,
      `keyfile ${noLineBreak('key path', path.resolve(l.tls.keyFile))}`,
      'tls_version tlsv1.2',
    );
  }
  return lines;
}
