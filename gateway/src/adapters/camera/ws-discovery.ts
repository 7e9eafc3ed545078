import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';

/**
 * WS-Discovery (OASIS, the 2005/04 version ONVIF devices speak; ONVIF Core §7.3): a Probe for
 * `dn:NetworkVideoTransmitter` sent over UDP — multicast to 239.255.255.250:3702 on the LAN, or
 * unicast to one address (a camera, or a network where multicast does not pass) — and the
 * ProbeMatches that come back. Written here rather than with the `onvif` package's `Discovery`,
 * which is a module-level singleton fixed to the multicast address and port.
 */

export const WS_DISCOVERY_MULTICAST = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
} as const;
export const PROBE_ACTION = `${NS.d}/Probe`;
export const PROBE_MATCHES_ACTION = `${NS.d}/ProbeMatches`;

/** One device that answered a Probe. */
export interface DiscoveredDevice {
  /** Its stable identity (EndpointReference Address), e.g. `urn:uuid:…`: survives address changes. */
  endpoint: string;
  /** Its device service addresses (`http://192.168.1.64/onvif/device_service`). */
  xaddrs: string[];
  types: string[];
  /** ONVIF scopes: `onvif://www.onvif.org/name/…`, `…/hardware/…`, `…/location/…`. */
  scopes: string[];
  /** Where the answer came from. */
  from: string;
}

/** The Probe message (SOAP 1.2 over UDP, WS-Addressing 2004/08). */
export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:d="${NS.d}" xmlns:dn="${NS.dn}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${PROBE_ACTION}</a:Action>` +
    `<a:MessageID>${messageId}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${NS.a}/role/anonymous</a:Address></a:ReplyTo>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/** Text of every element with this local name, any prefix. */
function texts(xml: string, local: string): string[] {
  const re = new RegExp(`<(?:[\\w-]+:)?${local}\\b[^>]*>([^<]*)</(?:[\\w-]+:)?${local}>`, 'g');
  return [...xml.matchAll(re)].map((m) => (m[1] ?? '').trim());
}

const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

/**
 * The matches of a ProbeMatches answering `messageId` (`RelatesTo`); [] for anything else — a
 * Probe from another client, a Hello, a stray datagram.
 */
export function parseProbeMatches(xml: string, messageId: string, from: string): DiscoveredDevice[] {
  if (!texts(xml, 'Action').includes(PROBE_MATCHES_ACTION)) return [];
  if (!texts(xml, 'RelatesTo').includes(messageId)) return [];
  const out: DiscoveredDevice[] = [];
  for (const m of xml.matchAll(/<(?:[\w-]+:)?ProbeMatch\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?ProbeMatch>/g)) {
    const body = m[1] ?? '';
    const endpoint = texts(body, 'Address')[0];
    const xaddrs = words(texts(body, 'XAddrs')[0]).filter((u) => /^https?:\/\//.test(u));
    if (!endpoint || xaddrs.length === 0) continue;
    out.push({
      endpoint,
      xaddrs,
      types: words(texts(body, 'Types')[0]),
      scopes: words(texts(body, 'Scopes')[0]),
      from,
    });
  }
  return out;
}

export interface ProbeOptions {
  /** Multicast group or a unicast address. */
  address: string;
  port: number;
  /** Local interface address for multicast (and the source address); default the system's choice. */
  interface?: string;
  /** How long answers are collected (devices wait up to 500 ms before answering a multicast Probe). */
  timeoutMs: number;
  /** Multicast hops; 1 keeps the Probe on the LAN (WS-Discovery: TTL 1). */
  ttl?: number;
}

const isMulticast = (a: string) => {
  const first = Number(a.split('.')[0]);
  return first >= 224 && first <= 239;
};

/** Sends one Probe and resolves with every distinct device that answered within the time limit. */
export function probe(opts: ProbeOptions): Promise<DiscoveredDevice[]> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    const messageId = `urn:uuid:${randomUUID()}`;
    const found = new Map<string, DiscoveredDevice>();
    let timer: NodeJS.Timeout | undefined;
    const finish = (err?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve([...found.values()]);
    };
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg, rinfo) => {
      for (const d of parseProbeMatches(msg.toString('utf8'), messageId, `${rinfo.address}:${rinfo.port}`)) {
        if (!found.has(d.endpoint)) found.set(d.endpoint, d);
      }
    });
    socket.bind(0, opts.interface, () => {
      try {
        if (isMulticast(opts.address)) {
          socket.setMulticastTTL(opts.ttl ?? 1);
          if (opts.interface) socket.setMulticastInterface(opts.interface);
        }
      } catch (err) {
        finish(err as Error);
        return;
      }
      const message = Buffer.from(probeMessage(messageId));
      socket.send(message, opts.port, opts.address, (err) => {
        if (err) finish(err);
        else timer = setTimeout(() => finish(), opts.timeoutMs);
      });
    });
  });
}
