import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The few pieces of SOAP 1.2 and ONVIF a simulated camera needs: which operation a request body
 * asks for, its WS-Security UsernameToken, and the answers. Written against the ONVIF Core
 * Specification (device and media services, Profile S) and the OASIS Web Services Security
 * UsernameToken Profile 1.0; deliberately without an XML library: the requests are the gateway's,
 * small and regular, and a simulator that parses them loosely is one that real clients pass.
 */

const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
} as const;

/** The first element inside `<…:Body>`: the operation, without its prefix. */
export function soapOperation(body: string): string | undefined {
  const m = /<(?:[\w-]+:)?Body\b[^>]*>\s*<(?:[\w-]+:)?([A-Za-z]+)\b/.exec(body);
  return m?.[1];
}

/** Text of the first element with this local name, any prefix. */
export function elementText(body: string, local: string): string | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${local}\\b[^>]*>([^<]*)</(?:[\\w-]+:)?${local}>`).exec(body);
  return m?.[1]?.trim();
}

export interface UsernameToken {
  username: string;
  password: string;
  digest: boolean;
  nonce?: string;
  created?: string;
}

export function usernameToken(body: string): UsernameToken | undefined {
  const username = elementText(body, 'Username');
  const password = elementText(body, 'Password');
  if (username === undefined || password === undefined) return undefined;
  const type = /<(?:[\w-]+:)?Password\b[^>]*Type="([^"]*)"/.exec(body)?.[1] ?? '';
  const nonce = elementText(body, 'Nonce');
  const created = elementText(body, 'Created');
  return {
    username,
    password,
    digest: type.endsWith('#PasswordDigest'),
    ...(nonce === undefined ? {} : { nonce }),
    ...(created === undefined ? {} : { created }),
  };
}

/**
 * WSS UsernameToken Profile 1.0 §3.1: PasswordDigest = Base64(SHA-1(nonce + created + password)),
 * the nonce decoded from Base64. PasswordText compares the password itself.
 */
export function tokenMatches(token: UsernameToken, username: string, password: string): boolean {
  if (token.username !== username) return false;
  const expected = token.digest
    ? createHash('sha1')
        .update(
          Buffer.concat([
            Buffer.from(token.nonce ?? '', 'base64'),
            Buffer.from(token.created ?? '', 'utf8'),
            Buffer.from(password, 'utf8'),
          ]),
        )
        .digest('base64')
    : password;
  const a = Buffer.from(expected);
  const b = Buffer.from(token.password);
  return a.length === b.length && timingSafeEqual(a, b);
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

export function envelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tt="${NS.tt}" xmlns:ter="${NS.ter}">` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A SOAP 1.2 fault with an ONVIF subcode (ONVIF Core §5.11.2), e.g. `ter:NotAuthorized`. */
export function fault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${escapeXml(reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

export function systemDateAndTime(at: Date): string {
  return envelope(
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
      '<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
      '<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>' +
      `<tt:UTCDateTime><tt:Time><tt:Hour>${at.getUTCHours()}</tt:Hour><tt:Minute>${at.getUTCMinutes()}</tt:Minute>` +
      `<tt:Second>${at.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${at.getUTCFullYear()}</tt:Year>` +
      `<tt:Month>${at.getUTCMonth() + 1}</tt:Month><tt:Day>${at.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime>` +
      '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
  );
}

export function capabilities(base: string): string {
  return envelope(
    '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
      `<tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr></tt:Device>` +
      `<tt:Media><tt:XAddr>${base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>` +
      '<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>' +
      '</tt:StreamingCapabilities></tt:Media>' +
      '</tds:Capabilities></tds:GetCapabilitiesResponse>',
  );
}

export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export function deviceInformation(d: DeviceInformation): string {
  return envelope(
    '<tds:GetDeviceInformationResponse>' +
      `<tds:Manufacturer>${escapeXml(d.manufacturer)}</tds:Manufacturer><tds:Model>${escapeXml(d.model)}</tds:Model>` +
      `<tds:FirmwareVersion>${escapeXml(d.firmwareVersion)}</tds:FirmwareVersion>` +
      `<tds:SerialNumber>${escapeXml(d.serialNumber)}</tds:SerialNumber><tds:HardwareId>${escapeXml(d.hardwareId)}</tds:HardwareId>` +
      '</tds:GetDeviceInformationResponse>',
  );
}

export interface ProfileFormat {
  token: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

export function profiles(p: ProfileFormat): string {
  return envelope(
    `<trt:GetProfilesResponse><trt:Profiles token="${p.token}" fixed="true"><tt:Name>MainStream</tt:Name>` +
      '<tt:VideoSourceConfiguration token="vsc0"><tt:Name>VideoSource</tt:Name><tt:UseCount>1</tt:UseCount>' +
      `<tt:SourceToken>vs0</tt:SourceToken><tt:Bounds x="0" y="0" width="${p.width}" height="${p.height}"/></tt:VideoSourceConfiguration>` +
      '<tt:VideoEncoderConfiguration token="vec0"><tt:Name>VideoEncoder</tt:Name><tt:UseCount>1</tt:UseCount>' +
      `<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      `<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
      `<tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
      `<tt:H264><tt:GovLength>${p.fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
      '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>' +
      '</trt:Profiles></trt:GetProfilesResponse>',
  );
}

export function videoSources(p: ProfileFormat): string {
  return envelope(
    '<trt:GetVideoSourcesResponse><trt:VideoSources token="vs0">' +
      `<tt:Framerate>${p.fps}</tt:Framerate><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
      '</trt:VideoSources></trt:GetVideoSourcesResponse>',
  );
}

/** GetStreamUri and GetSnapshotUri answer alike: a `MediaUri`. */
export function mediaUri(operation: 'GetStreamUri' | 'GetSnapshotUri', uri: string): string {
  return envelope(
    `<trt:${operation}Response><trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri>` +
      '<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>' +
      `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${operation}Response>`,
  );
}
