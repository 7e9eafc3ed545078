import type { FastifyInstance } from 'fastify';

/**
 * The Content Security Policy of every response (W3C CSP Level 3). The web app is Vite's build of
 * Vue 3 (templates compiled ahead, so no `eval`) and ECharts on canvas: scripts, styles, the
 * service worker and the socket.io connection come from the dashboard's own origin only.
 * - `style-src 'self'`: the built page has no inline <style> or style attribute; Vue and ECharts
 *   set styles through the CSSOM (`element.style`), which CSP does not govern (W3C CSP3, style-src).
 * - `img-src data: blob:`: ECharts exports and icons as data URLs.
 * - `connect-src 'self'`: the API and socket.io (CSP Level 3 lets 'self' match ws:/wss: of the origin).
 * - `frame-ancestors 'none'`: no page may frame the dashboard (clickjacking of alarm actions).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // Browsers without frame-ancestors (and old kiosk PCs) honour this instead.
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Links out of the dashboard (and its kiosk links) leak no path or query to other sites.
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
});

/** Adds `SECURITY_HEADERS` to every response of `app`: pages, assets, API answers and errors. */
export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    return payload;
  });
}
