import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const DIST = fileURLToPath(new URL('../web-dist/', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/**
 * Builds the web app into web-dist when it is missing or older than its sources, so that
 * `npm test` works from a fresh clone without a separate step. The server's wire types that the
 * app imports (src/live, src/alerts) count as sources too.
 */
export async function ensureWebBuilt(): Promise<string> {
  const index = join(DIST, 'index.html');
  const sources = Math.max(
    newestMtime(WEB),
    newestMtime(fileURLToPath(new URL('../src/live/', import.meta.url))),
    newestMtime(fileURLToPath(new URL('../src/alerts/', import.meta.url))),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return DIST;
  const { build } = await import('vite');
  await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  return DIST;
}
