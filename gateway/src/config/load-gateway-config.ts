import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssues, issuesWithPositions, type PositionedDocument, parseWithPositions } from '@anlian/protocol';
import { GatewayError } from '../errors.js';
import { type GatewayConfig, GatewayFileConfig, type GatewayFileConfigInput } from './gateway-config.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates a configuration value (parsed from `file`, or built by a test) and resolves it:
 * relative paths against `baseDir`, `passwordFile` read. Throws ANL_GW_CONFIG listing every
 * problem with its path (and line, when `src` is the text it came from).
 */
export function resolveGatewayConfig(
  value: unknown,
  opts: { file?: string; baseDir?: string; src?: PositionedDocument } = {},
): GatewayConfig {
  const file = opts.file ?? '(config)';
  const result = GatewayFileConfig.safeParse(value);
  if (!result.success) {
    const issues = issuesWithPositions(result.error.issues, opts.src);
    throw new GatewayError('ANL_GW_CONFIG', `${issues.length} problem(s)\n${formatIssues(file, issues)}`);
  }
  const c = result.data;
  const baseDir = opts.baseDir ?? process.cwd();
  const at = (p: string) => path.resolve(baseDir, p);
  let password = c.county.password;
  if (c.county.passwordFile !== undefined) {
    try {
      password = readFileSync(at(c.county.passwordFile), 'utf8').trim();
    } catch (err) {
      throw new GatewayError(
        'ANL_GW_CONFIG',
        `${file}: county.passwordFile: cannot read ${at(c.county.passwordFile)}: ${(err as Error).message}`,
      );
    }
    if (password.length === 0)
      throw new GatewayError('ANL_GW_CONFIG', `${file}: county.passwordFile: the file is empty`);
  }
  const { passwordFile: _ignored, ...county } = c.county;
  return deepFreeze({
    ...c,
    dataDir: at(c.dataDir),
    // Camera password files, like the county's, are relative to the configuration file.
    adapters: c.adapters.map((a) =>
      a.type === 'camera'
        ? { ...a, cameras: a.cameras.map((k) => (k.passwordFile ? { ...k, passwordFile: at(k.passwordFile) } : k)) }
        : a,
    ),
    county: { ...county, password: password as string, ...(county.caFile ? { caFile: at(county.caFile) } : {}) },
  });
}

/** Reads and validates a gateway configuration file (YAML or JSON). */
export async function loadGatewayConfig(file: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GatewayError('ANL_GW_CONFIG', `cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = parseWithPositions(text);
  if (!parsed.ok) {
    throw new GatewayError('ANL_GW_CONFIG', `${file} is not valid YAML/JSON\n${formatIssues(file, parsed.issues)}`);
  }
  const value: unknown = parsed.value.doc.toJS();
  return resolveGatewayConfig(value, { file, baseDir: path.dirname(path.resolve(file)), src: parsed.value });
}

export type { GatewayConfig, GatewayFileConfigInput };
