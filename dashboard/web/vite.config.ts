import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig, type Plugin } from 'vite';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Lists every repository file the build read (outside node_modules) in `.build-inputs.json`, so
 * that bin/build.mjs rebuilds the app when any of them changes — the server's wire types under
 * dashboard/src included — and not otherwise.
 */
function buildInputs(): Plugin {
  let files: string[] = [];
  return {
    name: 'anlian-build-inputs',
    apply: 'build',
    generateBundle() {
      files = [...this.getModuleIds()]
        .filter((id) => id.startsWith('/') && !id.includes('/node_modules/'))
        .map((id) => relative(REPO_ROOT, id.replace(/\?.*$/, '')))
        .filter((file, i, all) => !file.startsWith('..') && all.indexOf(file) === i)
        .sort();
    },
    writeBundle(options) {
      if (options.dir) writeFileSync(join(options.dir, '.build-inputs.json'), `${JSON.stringify(files, null, 1)}\n`);
    },
  };
}

// The web app (wall screen, institution, manager and admin views), built to ../web-dist, which
// the dashboard server serves. `./anlian` and `npm test` build it when stale (bin/build.mjs).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue(), buildInputs()],
  build: {
    outDir: fileURLToPath(new URL('../web-dist', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    // The wall screen runs on kiosk PCs and phones of every age: no newer syntax than this.
    target: 'es2020',
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true } },
  },
});
