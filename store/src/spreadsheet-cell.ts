/**
 * What makes a spreadsheet program read a text cell as a formula: a leading `=`, `+`, `-` or
 * `@`, and a leading tab or carriage return, which some programs skip before they look (OWASP,
 * "CSV Injection"). Names, addresses and notes in the registry and the reports come from people
 * and devices; opened in Excel or WPS, `=HYPERLINK(…)` or `=cmd|…` must stay text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEUTRALISED = /^'[=+\-@\t\r]/;

/** `text` as a cell that cannot start a formula: a leading apostrophe, which spreadsheets show as text. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Undoes `neutraliseFormula` for a file read back (an export edited and imported again). */
export function restoreNeutralised(text: string): string {
  return NEUTRALISED.test(text) ? text.slice(1) : text;
}
