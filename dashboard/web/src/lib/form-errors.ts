import { ta } from './admin-i18n';
import { ApiError, type ApiIssue } from './api-client';
import { locale } from './i18n';

/** What a failed save shows: a message per field, and a headline with what no field can show. */
export interface FormProblem {
  /** Keyed by JSON pointer into the body (`/location/lat`); other parts as `params:/id`. */
  fields: Record<string, string>;
  headline: string;
  /** The server's own words when no field carries them, or an import's problems row by row. */
  details: string[];
  /** The `ANL_…` code, shown small for whoever reads the server log. */
  code: string;
}

/** The key a field looks its error up by. */
export const issueKey = (i: Pick<ApiIssue, 'in' | 'path'>): string => (i.in === 'body' ? i.path : `${i.in}:${i.path}`);

const HEADLINES: Record<string, Parameters<typeof ta>[0]> = {
  ANL_DASH_BAD_REQUEST: 'errBadRequest',
  ANL_DASH_CONFLICT: 'errConflict',
  ANL_DASH_NOT_FOUND: 'errNotFound',
  ANL_DASH_FORBIDDEN: 'errForbidden',
  ANL_DASH_UNAUTHENTICATED: 'errUnauthenticated',
  ANL_DASH_IMPORT_INVALID: 'errImport',
  ANL_ALERT_REQUEST_INVALID: 'errBadRequest',
};

/**
 * The server's custom messages (zod refinements in alerting's escalation policy, the registry's
 * rules) in Chinese, by how they start; anything else is shown as the server wrote it.
 */
const CUSTOM_ZH: [RegExp, Parameters<typeof ta>[0]][] = [
  [/^the first level is notified at once/, 'errFirstLevelZero'],
  [/^levels escalate in time order/, 'errLevelsOrder'],
  [/^reminders at most every 30 s/, 'errRepeatMin'],
  [/^medium is only for extinguisher/, 'errMediumOnlyExtinguisher'],
  [/^duplicate contact id/, 'errDuplicateId'],
  [/^a silence needs a scope/, 'errSilenceScope'],
  [/^fire alarms are never silenced/, 'errSilenceFire'],
  [/^no rule "/, 'errSilenceRule'],
  [/^a silence lasts at most/, 'errSilenceTooLong'],
  [/^a silence must end after/, 'errSilenceEnd'],
];

/** One issue in the current language: Chinese from zod's code and bounds, English as the server says it. */
export function issueText(i: ApiIssue): string {
  if (locale.value === 'en') return i.message;
  const n = i.minimum ?? i.maximum ?? 0;
  switch (i.code) {
    case 'too_small':
      if (i.origin === 'string') return n <= 1 ? ta('errRequired') : ta('errMinChars', { n });
      if (i.origin === 'array') return ta('errMinItems', { n });
      return ta('errMin', { n });
    case 'too_big':
      if (i.origin === 'string') return ta('errMaxChars', { n });
      if (i.origin === 'array') return ta('errMaxItems', { n });
      return ta('errMax', { n });
    case 'invalid_type':
      return ta('errInvalidValue');
    case 'invalid_value':
      return ta('errChoice');
    case 'invalid_format':
      if (i.path.endsWith('/phone')) return ta('errPhone');
      if (i.in === 'params' || /\/id$/.test(i.path)) return ta('errId');
      return ta('errFormat');
    case 'custom': {
      const known = CUSTOM_ZH.find(([re]) => re.test(i.message));
      return known ? ta(known[1]) : i.message;
    }
    default:
      return i.message;
  }
}

/** An import's row problems (`row 12: lng must be a number`) with the row in Chinese. */
function rowText(message: string): string {
  if (locale.value === 'en') return message;
  return message
    .replace(/^contacts row (\d+): /, (_, r: string) => ta('contactsRowN', { n: r }))
    .replace(/^row (\d+): /, (_, r: string) => ta('rowN', { n: r }));
}

/** The server's message without its leading code (`ANL_DASH_CONFLICT: …`). */
const withoutCode = (message: string): string => message.replace(/^[A-Z_]+: /, '');

export function formProblem(err: unknown): FormProblem {
  if (!(err instanceof ApiError)) {
    return { fields: {}, headline: ta('errNetwork'), details: [String(err)], code: '' };
  }
  const fields: Record<string, string> = {};
  const details: string[] = [];
  for (const i of err.issues) {
    if (i.in === 'file' || i.path === '') details.push(i.in === 'file' ? rowText(i.message) : issueText(i));
    else fields[issueKey(i)] ??= issueText(i);
  }
  // The server's own words, when they are in the reader's language (English messages are for logs).
  const own = withoutCode(err.message);
  if (err.issues.length === 0 && (locale.value === 'en' || /[\u4e00-\u9fff]/.test(own))) details.push(own);
  const key = HEADLINES[err.code];
  const count = Object.keys(fields).length;
  return {
    fields,
    headline: key === 'errBadRequest' && count > 0 ? ta('errFields', { n: count }) : ta(key ?? 'errOther'),
    details,
    code: err.code,
  };
}
