import { z } from 'zod';

/** Environment value helpers shared by every service's `config.ts` (CONVENTIONS.md §5). */
export const envPort = z.coerce.number().int().min(0).max(65_535);
export const envBool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** An optional string where the empty string means "unset" (systemd EnvironmentFile lines like `X=`). */
export const envOptional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
export const envLogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A configuration problem: every bad variable, one per line; `main` prints it and exits 2. */
export class ConfigError extends Error {
  readonly code = 'ANL_ERR_CONFIG';
  constructor(message: string) {
    super(`ANL_ERR_CONFIG: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment against a schema once at boot; throws a `ConfigError` listing every problem. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const r = schema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.map(String).join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return r.data;
}

/** The variables of a schema and their descriptions, for `--help` and the README. */
export function describeEnv(shape: Record<string, z.ZodType>): { name: string; description: string }[] {
  return Object.entries(shape).map(([name, schema]) => ({ name, description: schema.description ?? '' }));
}
