import { fileURLToPath } from 'node:url';
import { build } from '../../bin/build.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = fileURLToPath(new URL('../web-dist/', import.meta.url));

/**
 * The built web app, built first when it is missing or stale — by the same bin/build.mjs that
 * `./anlian` and `npm test` run, under its lock and with an atomic swap, so that test files
 * starting together neither build twice nor read a half-written build.
 */
export async function ensureWebBuilt(): Promise<string> {
  build(ROOT, { steps: ['web'], log: () => {} });
  return DIST;
}
