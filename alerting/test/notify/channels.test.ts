import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertingErrorCode } from '../../src/errors.js';
import { ChannelConfig, parseChannelConfigs } from '../../src/notify/channel-config.js';
import { createChannel } from '../../src/notify/channels/create-channel.js';
import { NotificationStream, type StreamNotification } from '../../src/notify/channels/notification-stream.js';
import type { AlertNotification } from '../../src/notify/notification.js';
import type { NotificationChannel, SendResult } from '../../src/notify/notification-channel.js';
import { LoopbackReceiver, type ReceivedRequest, type Reply } from './loopback-receiver.js';
import { fireAlarm, RAISED_AT } from './notification-fixture.js';

const NOW = RAISED_AT + 2_000;
const clock = () => NOW;
const receivers: LoopbackReceiver[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(reply: (req: ReceivedRequest, i: number) => Reply | Promise<Reply>): Promise<LoopbackReceiver> {
  const r = await new LoopbackReceiver(reply).start();
  receivers.push(r);
  return r;
}

function channel(config: unknown): NotificationChannel {
  return createChannel(ChannelConfig.parse(config), { clock, nonce: () => 'nonce-1' });
}

function send(ch: NotificationChannel, n: AlertNotification = fireAlarm(), extra: { recipient?: number } = {}) {
  const recipient = extra.recipient === undefined ? undefined : n.recipients[extra.recipient];
  return ch.send(n, {
    idempotencyKey: `${n.notificationId}:${ch.id}${recipient ? `:${recipient.contactId}` : ''}`,
    attempt: 1,
    signal: new AbortController().signal,
    ...(recipient ? { recipient } : {}),
  });
}

// biome-ignore lint/suspicious/noExplicitAny: vendor bodies are checked field by field against the vendor's documented shape
const json = (req: ReceivedRequest) => JSON.parse(req.body) as Record<string, any>;

describe('WeCom group bot', () => {
  it('posts a text message that mentions the recipients by phone and userid', async () => {
    const r = await receiver(() => ({ body: { errcode: 0, errmsg: 'ok' } }));
    const ch = channel({ id: 'wecom-a', type: 'wecom', webhookUrl: `${r.url}?key=k-1` });
    expect(await send(ch)).toEqual({ status: 'sent' });
    const req = r.requests[0] as ReceivedRequest;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook?key=k-1');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const body = json(req);
    expect(body.msgtype).toBe('text');
    expect(body.text.content.split('\n')[0]).toBe('【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22');
    expect(body.text.mentioned_mobile_list).toEqual(['13800000001', '13800000002']);
    expect(body.text.mentioned_list).toEqual(['zhangsan']);
  });

  it('sends markdown with <@userid> mentions when configured', async () => {
    const r = await receiver(() => ({ body: { errcode: 0, errmsg: 'ok' } }));
    const ch = channel({ id: 'wecom-md', type: 'wecom', webhookUrl: r.url, msgtype: 'markdown' });
    expect((await send(ch)).status).toBe('sent');
    const body = json(r.requests[0] as ReceivedRequest);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.content).toMatch(/^### 【火警】/);
    expect(body.markdown.content).toMatch(/<@zhangsan>$/);
  });

  it('reads errcode: a 200 with 45009 is a retryable failure, 93000 is not', async () => {
    const codes = [
      { errcode: 45009, errmsg: 'api freq out of limit' },
      { errcode: 93000, errmsg: 'invalid webhook url' },
    ];
    const r = await receiver((_req, i) => ({ body: codes[i] }));
    const ch = channel({ id: 'wecom-e', type: 'wecom', webhookUrl: r.url });
    expect(await send(ch)).toEqual({
      status: 'failed',
      retryable: true,
      error: 'errcode 45009: api freq out of limit',
    });
    expect(await send(ch)).toEqual({ status: 'failed', retryable: false, error: 'errcode 93000: invalid webhook url' });
  });
});

describe('DingTalk robot', () => {
  const secret = 'SECtest0123456789abcdef';

  /** The receiver checks 加签 as DingTalk does and answers 310000 when it does not match. */
  function verifyDingtalk(req: ReceivedRequest): Reply {
    const q = new URL(req.url, 'http://x').searchParams;
    const timestamp = q.get('timestamp') ?? '';
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    if (q.get('access_token') !== 'tok' || q.get('sign') !== expected) {
      return { body: { errcode: 310000, errmsg: 'sign not match' } };
    }
    return { body: { errcode: 0, errmsg: 'ok' } };
  }

  it('signs the URL with timestamp and sign, and @-mentions by phone and userId', async () => {
    const r = await receiver(verifyDingtalk);
    const ch = channel({ id: 'ding-a', type: 'dingtalk', webhookUrl: `${r.url}?access_token=tok`, secret });
    expect(await send(ch)).toEqual({ status: 'sent' });
    const req = r.requests[0] as ReceivedRequest;
    expect(new URL(req.url, 'http://x').searchParams.get('timestamp')).toBe(String(NOW));
    // The Base64 signature is URL-encoded: no raw `+`, `/` or `=` in the query.
    expect(req.url.split('sign=')[1]).not.toMatch(/[+/=]/);
    const body = json(req);
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22');
    expect(body.markdown.text).toMatch(/@13800000001 @13800000002 @lisi$/);
    expect(body.at).toEqual({ atMobiles: ['13800000001', '13800000002'], atUserIds: ['lisi'], isAtAll: false });
  });

  it('fails without retry on a wrong secret, and retries when sending too fast', async () => {
    const r = await receiver(verifyDingtalk);
    const wrong = channel({
      id: 'ding-b',
      type: 'dingtalk',
      webhookUrl: `${r.url}?access_token=tok`,
      secret: 'SECother',
    });
    expect(await send(wrong)).toEqual({ status: 'failed', retryable: false, error: 'errcode 310000: sign not match' });
    r.setReply(() => ({ body: { errcode: 130101, errmsg: 'send too fast' } }));
    const ch = channel({ id: 'ding-c', type: 'dingtalk', webhookUrl: `${r.url}?access_token=tok`, msgtype: 'text' });
    expect(await send(ch)).toMatchObject({ status: 'failed', retryable: true });
    expect(json(r.requests[1] as ReceivedRequest).text.content).toMatch(/^【火警】/);
  });
});

describe('Feishu bot', () => {
  const secret = 'feishu-secret';

  function verifyFeishu(req: ReceivedRequest): Reply {
    const body = json(req);
    const expected = createHmac('sha256', `${body.timestamp}\n${secret}`).update('').digest('base64');
    if (body.sign !== expected)
      return {
        status: 400,
        body: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time', data: {} },
      };
    return { body: { code: 0, msg: 'success', data: {} } };
  }

  it('puts timestamp (s) and sign in the body and mentions with <at>', async () => {
    const r = await receiver(verifyFeishu);
    const ch = channel({ id: 'fs-a', type: 'feishu', webhookUrl: r.url, secret });
    expect(await send(ch)).toEqual({ status: 'sent' });
    const body = json(r.requests[0] as ReceivedRequest);
    expect(body.timestamp).toBe(String(Math.floor(NOW / 1000)));
    expect(body.msg_type).toBe('text');
    expect(body.content.text).toMatch(/^【火警】/);
    expect(body.content.text).toMatch(/<at user_id="ou_li">李四<\/at>$/);
  });

  it('reads code even on HTTP 400; 11232 (frequency limited) is retryable', async () => {
    const r = await receiver(verifyFeishu);
    const wrong = channel({ id: 'fs-b', type: 'feishu', webhookUrl: r.url, secret: 'other' });
    expect(await send(wrong)).toMatchObject({
      status: 'failed',
      retryable: false,
      error: expect.stringMatching(/^code 19021/),
    });
    r.setReply(() => ({ body: { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]' } }));
    expect(await send(channel({ id: 'fs-c', type: 'feishu', webhookUrl: r.url }))).toMatchObject({
      status: 'failed',
      retryable: true,
    });
  });
});

describe('generic webhook', () => {
  const secret = 'whsec-0123456789abcdef';

  it('signs t.body with HMAC-SHA256 and sends the idempotency key', async () => {
    const r = await receiver(() => ({ status: 202, body: { id: 'rcpt-1' } }));
    const ch = channel({ id: 'wh', type: 'webhook', url: r.url, secret, headers: { 'x-county': 'youyang' } });
    expect(await send(ch)).toEqual({ status: 'sent', receipt: 'rcpt-1' });
    const req = r.requests[0] as ReceivedRequest;
    expect(req.headers['idempotency-key']).toBe('a-1/L0R0:wh');
    expect(req.headers['x-anlian-attempt']).toBe('1');
    expect(req.headers['x-county']).toBe('youyang');
    const sig = String(req.headers['x-anlian-signature']);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    expect(m).not.toBeNull();
    const [, t, v1] = m as RegExpExecArray;
    expect(Number(t)).toBe(Math.floor(NOW / 1000));
    const expected = createHmac('sha256', secret).update(`${t}.${req.body}`).digest();
    expect(timingSafeEqual(expected, Buffer.from(v1 as string, 'hex'))).toBe(true);
    const body = json(req);
    expect(body).toMatchObject({ type: 'anlian.alert.notification', version: 1, idempotencyKey: 'a-1/L0R0:wh' });
    expect(body.notification.alertId).toBe('a-1');
    expect(body.message.title).toMatch(/^【火警】/);
  });

  it('classifies statuses and honours Retry-After', async () => {
    const replies: Reply[] = [
      { status: 500, body: 'boom' },
      { status: 400, body: { error: 'bad' } },
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': new Date(NOW + 30_000).toUTCString() } },
    ];
    const r = await receiver((_req, i) => replies[i] ?? { status: 200 });
    const ch = channel({ id: 'wh', type: 'webhook', url: r.url, secret });
    expect(await send(ch)).toEqual({ status: 'failed', retryable: true, error: 'HTTP 500: boom' });
    expect(await send(ch)).toMatchObject({ status: 'failed', retryable: false });
    expect(await send(ch)).toMatchObject({ status: 'failed', retryable: true, retryAfterMs: 7_000 });
    expect(await send(ch)).toMatchObject({ status: 'failed', retryable: true, retryAfterMs: 30_000 });
  });

  it('times out a hanging endpoint as a retryable failure, and reports a refused connection', async () => {
    const r = await receiver(() => 'hang');
    const ch = channel({ id: 'wh', type: 'webhook', url: r.url, secret, timeoutMs: 100 });
    expect(await send(ch)).toEqual({ status: 'failed', retryable: true, error: 'timeout after 100 ms' });
    const closed = await receiver(() => ({}));
    const url = closed.url;
    await closed.close();
    const refused = await send(channel({ id: 'wh2', type: 'webhook', url, secret }));
    expect(refused).toMatchObject({
      status: 'failed',
      retryable: true,
      error: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('Aliyun SMS', () => {
  const accessKeyId = 'LTAI-test';
  const accessKeySecret = 'secret-test';

  /** RFC 3986 encoding written independently of the channel's (byte by byte). */
  function rfc3986(s: string): string {
    let out = '';
    for (const byte of Buffer.from(s, 'utf8')) {
      const c = String.fromCharCode(byte);
      out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    return out;
  }
  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  /** Verifies ACS3-HMAC-SHA256 the way the POP gateway does, from what arrived on the wire. */
  function verifyAcs3(req: ReceivedRequest): boolean {
    const auth = String(req.headers.authorization);
    const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
    if (m === null || m[1] !== accessKeyId) return false;
    const signed = (m[2] as string).split(';');
    const [path, rawQuery = ''] = req.url.split('?') as [string, string?];
    const params = [...new URLSearchParams(rawQuery)].map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const query = params.map(([k, v]) => `${k}=${v}`).join('&');
    const headers = signed.map((h) => `${h}:${String(req.headers[h]).trim()}\n`).join('');
    const canonical = ['POST', path, query, headers, signed.join(';'), sha256(req.body)].join('\n');
    const expected = createHmac('sha256', accessKeySecret)
      .update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`)
      .digest('hex');
    return expected === m[3];
  }

  function smsChannel(url: string, over: Record<string, unknown> = {}) {
    return channel({
      id: 'sms',
      type: 'sms',
      provider: 'aliyun',
      accessKeyId,
      accessKeySecret,
      signName: '安联网',
      templateCode: 'SMS_100',
      drillTemplateCode: 'SMS_200',
      endpoint: url.replace('/hook', ''),
      ...over,
    });
  }

  it('sends SendSms with a V3 signature the gateway verifies, one phone, OutId = idempotency key', async () => {
    const r = await receiver((req) =>
      verifyAcs3(req)
        ? { body: { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'R1' } }
        : { status: 400, body: { Code: 'SignatureDoesNotMatch', Message: 'signature mismatch' } },
    );
    const ch = smsChannel(r.url);
    expect(ch.fanOut).toBe('recipient');
    expect(await send(ch, fireAlarm(), { recipient: 1 })).toEqual({ status: 'sent', receipt: '900619746936498440^0' });
    const req = r.requests[0] as ReceivedRequest;
    expect(req.method).toBe('POST');
    expect(req.body).toBe('');
    expect(req.headers['x-acs-action']).toBe('SendSms');
    expect(req.headers['x-acs-version']).toBe('2017-05-25');
    expect(req.headers['x-acs-date']).toBe('2026-01-05T06:03:24Z');
    expect(req.headers['x-acs-signature-nonce']).toBe('nonce-1');
    expect(req.headers['x-acs-content-sha256']).toBe(sha256(''));
    const q = new URLSearchParams(req.url.split('?')[1]);
    expect(q.get('PhoneNumbers')).toBe('13800000002');
    expect(q.get('SignName')).toBe('安联网');
    expect(q.get('TemplateCode')).toBe('SMS_100');
    expect(q.get('OutId')).toBe('a-1/L0R0:sms:c-li');
    expect(JSON.parse(q.get('TemplateParam') ?? '')).toMatchObject({ tag: '火警', institution: '酉阳县桃花源养老院' });
    // Drills use the drill template.
    await send(ch, fireAlarm({ drill: true }), { recipient: 0 });
    expect(new URLSearchParams((r.requests[1] as ReceivedRequest).url.split('?')[1]).get('TemplateCode')).toBe(
      'SMS_200',
    );
  });

  it('classifies Aliyun codes', async () => {
    const replies: Reply[] = [
      { body: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发分钟级流控Permits:1' } },
      { body: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号' } },
      { status: 400, body: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } },
      { status: 404, body: { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' } },
      { status: 503, body: 'Service Unavailable' },
    ];
    const r = await receiver((_req, i) => replies[i] ?? {});
    const ch = smsChannel(r.url);
    const results: SendResult[] = [];
    for (let i = 0; i < replies.length; i++) results.push(await send(ch, fireAlarm(), { recipient: 0 }));
    expect(results.map((x) => (x.status === 'failed' ? [x.retryable, x.retryAfterMs] : x.status))).toEqual([
      [true, 60_000],
      [false, undefined],
      [true, undefined],
      [false, undefined],
      [true, undefined],
    ]);
    expect(results[1]).toMatchObject({ error: 'isv.MOBILE_NUMBER_ILLEGAL: 非法手机号' });
  });

  it('refuses a recipient without a phone', async () => {
    const ch = smsChannel('http://127.0.0.1:9/hook');
    expect(ch.reachable?.({ contactId: 'x', name: 'x', role: 'manager' })).toBe(false);
    expect(
      await send(ch, fireAlarm({ recipients: [{ contactId: 'x', name: 'x', role: 'manager' }] }), { recipient: 0 }),
    ).toMatchObject({
      status: 'failed',
      retryable: false,
    });
  });
});

describe('stream channel', () => {
  it('fans out to subscribers; a throwing listener does not stop the others', async () => {
    const stream = new NotificationStream();
    const got: StreamNotification[] = [];
    stream.subscribe(() => {
      throw new Error('broken socket');
    });
    const off = stream.subscribe((e) => got.push(e));
    const ch = createChannel(ChannelConfig.parse({ id: 'live', type: 'stream' }), { stream, clock });
    expect(await send(ch)).toEqual({ status: 'sent', receipt: 'subscribers=1' });
    expect(got[0]).toMatchObject({ deliveryId: 'a-1/L0R0:live', channelId: 'live', notification: { alertId: 'a-1' } });
    expect(got[0]?.message.title).toMatch(/^【火警】/);
    off();
    expect(await send(ch)).toEqual({ status: 'sent', receipt: 'subscribers=0' });
    expect(got).toHaveLength(1);
  });
});

describe('channel config', () => {
  it('fills defaults and rejects duplicates, bad URLs and a stream without its stream', () => {
    const [wecom] = parseChannelConfigs([
      { id: 'w', type: 'wecom', webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' },
    ]);
    expect(wecom).toMatchObject({ enabled: true, drill: 'send', timeoutMs: 5000, msgtype: 'text' });
    const sms = ChannelConfig.parse({
      id: 's',
      type: 'sms',
      provider: 'aliyun',
      accessKeyId: 'a',
      accessKeySecret: 'b',
      signName: 'c',
      templateCode: 'd',
    });
    expect(sms).toMatchObject({ endpoint: 'https://dysmsapi.aliyuncs.com' });
    const issuesOf = (input: unknown) => {
      try {
        parseChannelConfigs(input);
      } catch (err) {
        expect((err as { code?: string }).code).toBe(AlertingErrorCode.CONFIG_INVALID);
        return (err as { issues: { path: string }[] }).issues.map((i) => i.path);
      }
      return [];
    };
    expect(
      issuesOf([
        { id: 'w', type: 'stream' },
        { id: 'w', type: 'stream' },
      ]),
    ).toEqual(['1.id']);
    expect(issuesOf([{ id: 'f', type: 'feishu', webhookUrl: 'ftp://x' }])).toEqual(['0.webhookUrl']);
    expect(issuesOf([{ id: 'h', type: 'webhook', url: 'https://x', secret: 'short' }])).toEqual(['0.secret']);
    try {
      createChannel(ChannelConfig.parse({ id: 'live', type: 'stream' }));
      expect.unreachable();
    } catch (err) {
      expect((err as { code?: string }).code).toBe(AlertingErrorCode.CONFIG_INVALID);
    }
  });
});
