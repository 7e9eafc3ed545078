import { formatIssues, issuesWithPositions, parseWithPositions, SegmentId, type SourceIssue } from '@anlian/protocol';
import { z } from 'zod';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { type ChannelConfig, ChannelConfigList } from './channel-config.js';

/** A channel and the institutions it serves (all of the county's when left out). */
export interface ChannelBinding {
  channel: ChannelConfig;
  institutions?: readonly string[];
}

const FileShape = z
  .object({
    channels: z.array(z.looseObject({ institutions: z.array(SegmentId).min(1).optional() })).default([]),
  })
  .strict();

/**
 * Parses a notification channel file (YAML or JSON):
 *
 * ```yaml
 * channels:
 *   - { id: county-duty-bot, type: wecom, webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' }
 *   - { id: yy-a-dingtalk, type: dingtalk, webhookUrl: '…', secret: SEC…, institutions: [yy-a] }
 * ```
 *
 * Every problem is reported with its path, line and column; throws `ANL_ALERT_CONFIG_INVALID`.
 */
export function parseChannelFile(text: string, source: string): ChannelBinding[] {
  const doc = parseWithPositions(text);
  if (!doc.ok) throw invalid(source, doc.issues);
  const shape = FileShape.safeParse(doc.value.doc.toJS());
  if (!shape.success) throw invalid(source, issuesWithPositions(shape.error.issues, doc.value));
  const institutions = shape.data.channels.map((c) => c.institutions);
  const configs = ChannelConfigList.safeParse(
    shape.data.channels.map(({ institutions: _scope, ...channel }) => channel),
  );
  if (!configs.success) {
    const issues = configs.error.issues.map((i) => ({ ...i, path: ['channels', ...i.path] }));
    throw invalid(source, issuesWithPositions(issues, doc.value));
  }
  return configs.data.map((channel, i) => {
    const scope = institutions[i];
    return scope ? { channel, institutions: scope } : { channel };
  });
}

function invalid(source: string, issues: SourceIssue[]): AlertingError {
  return new AlertingError(
    AlertingErrorCode.CONFIG_INVALID,
    `notification channel file ${source} is invalid:\n${formatIssues(source, issues)}`,
    issues,
  );
}
