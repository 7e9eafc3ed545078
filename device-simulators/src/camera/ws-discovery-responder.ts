import { createHash, randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { elementText } from './onvif-soap.js';

/** What the responder needs of a camera: who it is and whether it is on the network now. */
export interface DiscoverableCamera {
  id: string;
  /** Its ONVIF device service (the ProbeMatch's XAddrs). */
  deviceServiceUrl: string;
  /** False while it is `offline`: an unplugged camera answers nothing. */
  reachable: boolean;
}

export interface WsDiscoveryResponderOptions {
  /** The address unicast Probes come to, and the multicast interface. */
  host: string;
  /** 0: any free port (3702 is the standard one). */
  port: number;
  /** Also join the WS-Discovery multicast group 239.255.255.250 on `host`'s interface. */
  multicast: boolean;
  cameras: () => readonly DiscoverableCamera[];
  /** Largest random wait before answering a multicast Probe (WS-Discovery APP_MAX_DELAY, 500 ms). */
  maxDelayMs?: number;
}

const MULTICAST_GROUP = '239.255.255.250';
const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
} as const;

/** A camera's stable WS-Discovery identity: a name-based UUID from its id, like a serial-number-derived one. */
export function cameraEndpoint(id: string): string {
  const h = createHash('sha1').update(`anlian-sim-camera:${id}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Whether a Probe asks for what an ONVIF camera is: no Types, or NetworkVideoTransmitter / Device. */
function wantsCameras(probe: string): boolean {
  const types = elementText(probe, 'Types');
  if (!types) return true;
  return types.split(/\s+/).some((t) => /(^|:)(NetworkVideoTransmitter|Device)$/.test(t));
}

function probeMatches(relatesTo: string, cam: DiscoverableCamera): string {
  const name = encodeURIComponent(cam.id);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:d="${NS.d}" xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${NS.d}/ProbeMatches</a:Action>` +
    `<a:MessageID>urn:uuid:${randomUUID()}</a:MessageID><a:RelatesTo>${relatesTo}</a:RelatesTo>` +
    `<a:To s:mustUnderstand="1">${NS.a}/role/anonymous</a:To></s:Header>` +
    '<s:Body><d:ProbeMatches><d:ProbeMatch>' +
    `<a:EndpointReference><a:Address>${cameraEndpoint(cam.id)}</a:Address></a:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    '<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming ' +
    `onvif://www.onvif.org/hardware/SIM-IPC-640 onvif://www.onvif.org/name/${name}</d:Scopes>` +
    `<d:XAddrs>${cam.deviceServiceUrl}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
    '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
  );
}

/**
 * WS-Discovery for the simulated cameras (ONVIF Core §7.3, WS-Discovery 2005/04): answers a Probe
 * for ONVIF devices with one ProbeMatches per reachable camera, sent back to the prober. Unicast
 * Probes arrive at `host:port`; with `multicast`, Probes to 239.255.255.250:port on `host`'s
 * interface too. One responder for a simulator's cameras, as they all share its address.
 */
export class WsDiscoveryResponder {
  readonly #o: WsDiscoveryResponderOptions;
  #unicast: Socket | undefined;
  #group: Socket | undefined;
  #port = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  #probes = 0;

  constructor(opts: WsDiscoveryResponderOptions) {
    this.#o = opts;
  }

  get port(): number {
    return this.#port;
  }

  /** Probes answered (tests). */
  get probes(): number {
    return this.#probes;
  }

  async start(): Promise<void> {
    const unicast = createSocket({ type: 'udp4', reuseAddr: true });
    this.#unicast = unicast;
    await bind(unicast, this.#o.port, this.#o.host);
    this.#port = unicast.address().port;
    unicast.on('message', (msg, rinfo) => this.#answer(msg, rinfo.address, rinfo.port, 0));
    if (this.#o.multicast) {
      // Bound to the group itself: this socket gets only the group's datagrams, on this port.
      const group = createSocket({ type: 'udp4', reuseAddr: true });
      this.#group = group;
      await bind(group, this.#port, MULTICAST_GROUP);
      group.addMembership(MULTICAST_GROUP, this.#o.host);
      group.on('message', (msg, rinfo) =>
        this.#answer(msg, rinfo.address, rinfo.port, Math.random() * (this.#o.maxDelayMs ?? 500)),
      );
    }
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const s of [this.#unicast, this.#group]) {
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    this.#unicast = undefined;
    this.#group = undefined;
  }

  #answer(msg: Buffer, address: string, port: number, delayMs: number): void {
    const xml = msg.toString('utf8');
    if (!elementText(xml, 'Action')?.endsWith('/discovery/Probe') || !wantsCameras(xml)) return;
    const messageId = elementText(xml, 'MessageID');
    if (!messageId) return;
    this.#probes++;
    const send = () => {
      const socket = this.#unicast;
      if (!socket) return;
      for (const cam of this.#o.cameras()) {
        if (cam.reachable) socket.send(probeMatches(messageId, cam), port, address);
      }
    };
    if (delayMs <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      send();
    }, delayMs);
    this.#timers.add(t);
  }
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      socket.on('error', () => {
        // A send to a prober that went away: nothing to do, the next Probe is answered anew.
      });
      resolve();
    });
  });
}
