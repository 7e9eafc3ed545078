/** True when `err` carries this catalogue code (`ANL_…`): callers branch on codes, never on messages. */
export function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
