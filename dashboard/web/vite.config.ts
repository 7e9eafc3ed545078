import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The web app (wall screen, institution, manager and admin views), built to ../web-dist, which
// the dashboard server serves: `npx vite build --config dashboard/web/vite.config.ts` (the e2e test builds it when stale).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [vue()],
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
