import { createHash, createHmac, randomUUID } from 'node:crypto';
import { type HttpAttemptResponse, httpAttempt, quote } from '../http-attempt.js';
import type { SendResult } from '../notification-channel.js';
import type { SmsProvider, SmsRequest } from './sms-provider.js';

export interface AliyunSmsOptions {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  /** Default `https://dysmsapi.aliyuncs.com`. */
  endpoint: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  clock?: () => number;
  nonce?: () => string;
}

export const ALIYUN_SMS_ACTION = 'SendSms';
export const ALIYUN_SMS_VERSION = '2017-05-25';
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/**
 * Codes where another attempt can succeed: API throttling, a reused nonce, Aliyun-side errors,
 * and `isv.BUSINESS_LIMIT_CONTROL` (per-number frequency control; waiting a minute may clear it).
 * `isv.MOBILE_NUMBER_ILLEGAL`, `isv.SMS_TEMPLATE_ILLEGAL`, `isv.AMOUNT_NOT_ENOUGH`,
 * `SignatureDoesNotMatch`, `InvalidAccessKeyId.NotFound`, … need a person.
 */
const RETRYABLE_CODES = new Set([
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
  'SignatureNonceUsed',
  'ServiceUnavailable',
  'InternalError',
  'isp.SYSTEM_ERROR',
  'isv.BUSINESS_LIMIT_CONTROL',
]);
const BUSINESS_LIMIT_WAIT_MS = 60_000;

/** RFC 3986 percent-encoding as Aliyun canonicalizes it (space → %20, `*` → %2A, `~` kept). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Sorted `k=v&…` with both sides percent-encoded: the query we send and the one we sign. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .map((k) => [percentEncode(k), percentEncode(params[k] ?? '')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Alibaba Cloud API signature V3 (`ACS3-HMAC-SHA256`), the successor of the RPC V2 HMAC-SHA1
 * signature: hex HMAC-SHA256 of `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request
 * (method, path, query, lower-cased sorted `host`/`x-acs-*` headers, their names, body hash).
 */
export function acs3Signature(input: {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
  secret: string;
}): { signedHeaders: string; signature: string } {
  const names = Object.keys(input.headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-'))
    .sort();
  const lower = Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const canonicalHeaders = names.map((h) => `${h}:${lower[h]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    input.method,
    input.path,
    input.query,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(input.body),
  ].join('\n');
  const stringToSign = `${ACS3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', input.secret).update(stringToSign, 'utf8').digest('hex');
  return { signedHeaders, signature };
}

/**
 * Aliyun Dysms `SendSms`: POST with the parameters in the query and an empty body, signed
 * with V3. One phone per request so each recipient has its own retry and record; `OutId`
 * carries our delivery id into Aliyun's receipts. Answer `{ Code: 'OK', BizId }`.
 */
export class AliyunSmsProvider implements SmsProvider {
  readonly name = 'aliyun';

  constructor(private readonly opts: AliyunSmsOptions) {}

  /** The request `send` makes, exposed for tests and for debugging a signature. */
  request(req: Pick<SmsRequest, 'phone' | 'templateCode' | 'params' | 'outId'>): {
    url: string;
    headers: Record<string, string>;
  } {
    const now = (this.opts.clock ?? Date.now)();
    const base = new URL(this.opts.endpoint);
    const query = canonicalQuery({
      PhoneNumbers: req.phone,
      SignName: this.opts.signName,
      TemplateCode: req.templateCode,
      TemplateParam: JSON.stringify(req.params),
      // Aliyun caps OutId at 256 characters; our delivery ids are far shorter.
      OutId: req.outId,
    });
    const headers: Record<string, string> = {
      host: base.host,
      'x-acs-action': ALIYUN_SMS_ACTION,
      'x-acs-version': ALIYUN_SMS_VERSION,
      'x-acs-date': new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': (this.opts.nonce ?? randomUUID)(),
      'x-acs-content-sha256': sha256Hex(''),
    };
    const path = base.pathname === '' ? '/' : base.pathname;
    const { signedHeaders, signature } = acs3Signature({
      method: 'POST',
      path,
      query,
      headers,
      body: '',
      secret: this.opts.accessKeySecret,
    });
    const { host: _host, ...sent } = headers; // fetch derives Host from the URL
    return {
      url: `${base.origin}${path}?${query}`,
      headers: {
        ...sent,
        accept: 'application/json',
        authorization: `${ACS3_ALGORITHM} Credential=${this.opts.accessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`,
      },
    };
  }

  async send(req: SmsRequest): Promise<SendResult> {
    const { url, headers } = this.request(req);
    const out = await httpAttempt(
      this.opts.fetch ?? fetch,
      { url, headers, timeoutMs: this.opts.timeoutMs, signal: req.signal },
      this.opts.clock ?? Date.now,
    );
    if (out.ok) return aliyunResult(out.response);
    // POP errors (signature, key, throttling) come as 4xx with a JSON `Code`: it says more.
    if (out.response !== undefined && out.response.status < 500 && hasCode(out.response.json)) {
      return aliyunResult(out.response);
    }
    return out.failure;
  }
}

function hasCode(json: unknown): boolean {
  return typeof (json as { Code?: unknown } | undefined)?.Code === 'string';
}

function aliyunResult(res: HttpAttemptResponse): SendResult {
  const body = res.json as { Code?: unknown; Message?: unknown; BizId?: unknown } | undefined;
  if (typeof body?.Code !== 'string') {
    return { status: 'failed', retryable: true, error: `unexpected answer: ${quote(res.text)}` };
  }
  if (body.Code === 'OK') {
    return typeof body.BizId === 'string' ? { status: 'sent', receipt: body.BizId } : { status: 'sent' };
  }
  const error = `${body.Code}: ${typeof body.Message === 'string' ? body.Message : quote(res.text)}`;
  if (body.Code === 'isv.BUSINESS_LIMIT_CONTROL') {
    return { status: 'failed', retryable: true, error, retryAfterMs: BUSINESS_LIMIT_WAIT_MS };
  }
  return { status: 'failed', retryable: RETRYABLE_CODES.has(body.Code), error };
}
