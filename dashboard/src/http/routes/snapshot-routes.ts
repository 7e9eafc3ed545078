import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mediaUrl, snapshotWindow } from '../../alerts/alert-snapshot.js';
import { canSeeInstitution } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need } from '../request-principal.js';
import { errorResponses } from './route-schemas.js';

/** The HTTP form of `AlertSnapshot` (src/alerts/alert-snapshot.ts). */
export const AlertSnapshot = z.object({
  camera: z.string(),
  cameraName: z.string().optional(),
  shot: z.number().int(),
  ts: z.number(),
  width: z.number().optional(),
  height: z.number().optional(),
  /** Where the picture is served, for users allowed to see its institution. */
  url: z.string(),
});

/**
 * Video review (视频复核): the snapshots a gateway sent beside a fire alarm, attached to the alert
 * by institution, detector and alarm time; pictures are served only to users allowed to see that
 * institution (a manager: their own).
 */
export const snapshotRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext }> = async (app, { ctx }) => {
  const cameraName = (gateway: string, device: string) => {
    const name = ctx.model.deviceName(gateway, device);
    return name ? { cameraName: name } : {};
  };
  app.get(
    '/api/alerts/:id/snapshots',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Camera snapshots taken for a fire alarm (video review)',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: z.object({ snapshots: z.array(AlertSnapshot) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const detail = await ctx.alerts.get(req.params.id);
      if (!detail || detail.alert.county !== p.county) {
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no alert ${req.params.id}`);
      }
      const a = detail.alert;
      if (!canSeeInstitution(p, a.institution)) {
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, `alert ${a.id} belongs to another institution`);
      }
      if (!ctx.media || !a.device) return { snapshots: [] };
      const records = await ctx.media.findByCause(a.institution, a.device, ...snapshotWindow(a, ctx.clock()));
      return {
        snapshots: records.map((r) => ({
          camera: r.device,
          ...cameraName(r.gateway, r.device),
          shot: r.shot,
          ts: r.ts,
          ...(r.width ? { width: r.width } : {}),
          ...(r.height ? { height: r.height } : {}),
          url: mediaUrl(r.key),
        })),
      };
    },
  );

  app.get(
    '/api/media/:institution/:day/:file',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One snapshot picture (JPEG)',
        params: z.object({
          institution: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
          day: z.string().regex(/^\d{8}$/),
          file: z.string().regex(/^[a-f0-9]{32}\.jpg$/),
        }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      const { institution, day, file } = req.params;
      const found = ctx.media ? await ctx.media.get(`${institution}/${day}/${file}`) : undefined;
      if (!found || found.record.county !== p.county) {
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, 'no such picture');
      }
      if (!canSeeInstitution(p, found.record.institution)) {
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, 'the picture belongs to another institution');
      }
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'private, max-age=86400')
        .send(found.data);
    },
  );
};
