import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';

/**
 * Where a problem in a configuration text is: a dotted path, and a 1-based line and column when
 * the value came from text. Shared by every loader of YAML/JSON files (county, scenario, rules).
 */
export interface SourceIssue {
  /** Dotted path of the field, e.g. `faults.2.type`; `(root)` for the document. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A YAML or JSON text parsed with positions (JSON is YAML 1.2 flow syntax, so one parser serves both). */
export interface PositionedDocument {
  doc: Document;
  lines: LineCounter;
}

/** Parses `text`; syntax errors come back as issues with their line and column. */
export function parseWithPositions(
  text: string,
): { ok: true; value: PositionedDocument } | { ok: false; issues: SourceIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { line: pos.line, column: pos.col, path: '(syntax)', message: e.message.split('\n')[0] ?? e.message };
      }),
    };
  }
  return { ok: true, value: { doc, lines } };
}

type Segment = PropertyKey;

/** The node at `path`, or the deepest existing ancestor when the path ends in a missing key. */
function nodeAt(root: unknown, path: readonly Segment[]): { node: Node | undefined; found: boolean; keyNode?: Node } {
  let node = root as Node | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return { node, found: false };
      node = (pair.value ?? pair.key) as Node | undefined;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return { node, found: false };
      node = item;
    } else {
      return { node, found: false };
    }
  }
  return { node, found: true };
}

function keyNode(map: Node | undefined, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}

function describe(issue: z.core.$ZodIssue, missing: boolean): string {
  if (missing && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    const values =
      issue.code === 'invalid_value' && issue.values.length > 1
        ? `: one of ${issue.values.map(String).join(', ')}`
        : '';
    return `required${values} (missing in this object)`;
  }
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.join(', ') : '';
    return `unknown value; expected one of: ${options}`;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 1) {
    return `expected one of: ${issue.values.map(String).join(', ')}`;
  }
  return issue.message;
}

/**
 * Maps zod issues onto positions in the source: an unknown key points at the key, a missing
 * field at the object that lacks it, anything else at the offending value. Without `src` (a value
 * that did not come from text) the issues carry paths only.
 */
export function issuesWithPositions(issues: readonly z.core.$ZodIssue[], src?: PositionedDocument): SourceIssue[] {
  const out: SourceIssue[] = [];
  for (const issue of issues) {
    const located = src ? nodeAt(src.doc.contents, issue.path) : { node: undefined, found: true };
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      let node = located.node;
      let path = issue.path.map(String);
      let message = describe(issue, !located.found);
      if (key !== undefined) {
        node = keyNode(located.node, key) ?? node;
        path = [...path, key];
        message = 'unknown field';
      } else if (!located.found && !message.startsWith('required')) {
        message = `${message} (missing in this object)`;
      }
      const found: SourceIssue = { path: path.length > 0 ? path.join('.') : '(root)', message };
      if (src) {
        const pos = src.lines.linePos(node?.range?.[0] ?? 0);
        found.line = pos.line;
        found.column = pos.col;
      }
      out.push(found);
    }
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** `file: line 12, column 9: faults.0.type: unknown value; …` (or without position), one issue a line. */
export function formatIssues(file: string, issues: readonly SourceIssue[]): string {
  return issues
    .map((i) =>
      i.line === undefined
        ? `${file}: ${i.path}: ${i.message}`
        : `${file}: line ${i.line}, column ${i.column ?? 1}: ${i.path}: ${i.message}`,
    )
    .join('\n');
}
