/**
 * Text that a spreadsheet program could read as a formula — starting with `=`, `+`, `-`, `@`, a
 * tab or a carriage return (OWASP, CSV/formula injection) — gets a leading apostrophe, so an
 * institution or device named "=HYPERLINK(…)" is shown, never evaluated.
 */
export function neutralizeCellText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** Excel sheet names: at most 31 characters, none of `[]:*?/\`. */
export function sheetName(name: string): string {
  return name.replace(/[[\]:*?/\\]/g, ' ').slice(0, 31);
}
