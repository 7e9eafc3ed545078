import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import { HistoryField, HistoryMeasure, HistoryRange, historyQuery, parseHistory } from '../../history/history-query.js';
import { matchesInstitution, townOf } from '../../registry/institution-search.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { errorResponses, Id, LooseObject } from './route-schemas.js';

/** The county and its institutions, live state, history: what the wall screen and institution view read. */
export const countyRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; outlinePath: string | undefined }> = async (
  app,
  { ctx, outlinePath },
) => {
  const countyOnly = (req: Parameters<typeof need>[0]) => {
    const p = need(req, 'read');
    // A manager sees their institution only, not the county picture.
    if (p.role === 'institution_manager')
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, 'county views are for county staff');
    return p;
  };

  app.get(
    '/api/county',
    {
      schema: {
        tags: ['county'],
        summary: 'The county snapshot: institutions with status, figures, panels, open alerts, ticker',
        response: { 200: LooseObject, ...errorResponses },
      },
    },
    async (req) => ctx.model.countySnapshot(countyOnly(req).county) as unknown as Record<string, unknown>,
  );

  app.get(
    '/api/county/outline',
    {
      schema: {
        tags: ['county'],
        summary: 'The county outline (GeoJSON) for the wall-screen map',
        response: { 200: LooseObject, ...errorResponses },
      },
    },
    async (req) => {
      need(req, 'read');
      if (!outlinePath) throw new DashboardError(DashboardErrorCode.NOT_FOUND, 'no county outline configured');
      return JSON.parse(await readFile(outlinePath, 'utf8')) as Record<string, unknown>;
    },
  );

  app.get(
    '/api/institutions',
    {
      schema: {
        tags: ['county'],
        summary: 'Institutions the caller may see, with live status; `q` finds them by name, id, address or town',
        querystring: z.object({
          q: z.string().trim().max(100).optional().describe('any part of the name, id, address or town'),
        }),
        response: {
          200: z.object({
            institutions: z.array(
              z.object({
                id: z.string(),
                name: z.string(),
                address: z.string(),
                lng: z.number(),
                lat: z.number(),
                beds: z.number(),
                /** 乡镇 / 街道, from the address; empty when it names none. */
                town: z.string(),
                status: z.string(),
                risk: z.string(),
                openAlerts: z.number().int(),
                gatewaysOnline: z.number().int(),
                gatewaysTotal: z.number().int(),
              }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const snap = ctx.registryView.snapshot;
      const ids = p.institution ? [p.institution] : ctx.model.institutionIds(p.county);
      return {
        institutions: ids.flatMap((id) => {
          const i = snap.institutions.get(id);
          if (!i || !matchesInstitution({ id, name: i.name, address: i.address }, req.query.q ?? '')) return [];
          const live = ctx.model.institutionLive(id);
          return [
            {
              id,
              name: i.name,
              address: i.address,
              lng: i.lng,
              lat: i.lat,
              beds: i.beds,
              town: townOf(i.address),
              status: live.status,
              risk: live.risk,
              openAlerts: live.openAlerts,
              gatewaysOnline: live.gatewaysOnline,
              gatewaysTotal: live.gatewaysTotal,
            },
          ];
        }),
      };
    },
  );

  app.get(
    '/api/institutions/:id',
    {
      schema: {
        tags: ['county'],
        summary: 'One institution: gateways, devices by building/floor/room with latest values, open alerts, risk',
        params: z.object({ id: Id }),
        response: { 200: LooseObject, ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'read', req.params.id, (id) => ctx.model.countyOf(id));
      const snap = ctx.model.institutionSnapshot(req.params.id);
      if (!snap) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no institution ${req.params.id}`);
      return snap as unknown as Record<string, unknown>;
    },
  );

  app.get(
    '/api/institutions/:id/history',
    {
      schema: {
        tags: ['county'],
        summary:
          'Kitchen temperature, extinguisher pressure, camera health or an electrical circuit’s residual current or cable temperature (field) over 24 h or 7 d, per device (InfluxDB)',
        params: z.object({ id: Id }),
        querystring: z.object({
          measure: HistoryMeasure,
          range: HistoryRange.default('24h'),
          device: Id.optional(),
          field: HistoryField.optional(),
        }),
        response: {
          200: z.object({
            measure: HistoryMeasure,
            range: HistoryRange,
            field: HistoryField,
            intervalS: z.number(),
            series: z.array(
              z.object({ device: z.string(), points: z.array(z.tuple([z.number(), z.number().nullable()])) }),
            ),
          }),
          ...errorResponses,
          503: errorResponses[400],
        },
      },
    },
    async (req) => {
      needInstitution(req, 'read', req.params.id, (id) => ctx.model.countyOf(id));
      const q = historyQuery({ institution: req.params.id, ...req.query });
      let results: Awaited<ReturnType<DashboardContext['queryInflux']>>;
      try {
        results = await ctx.queryInflux(q.influxql);
      } catch (err) {
        throw new DashboardError(
          DashboardErrorCode.HISTORY_UNAVAILABLE,
          `InfluxDB did not answer: ${(err as Error).message}`,
          { cause: err },
        );
      }
      return {
        measure: req.query.measure,
        range: req.query.range,
        field: q.field,
        intervalS: q.intervalS,
        series: parseHistory(results),
      };
    },
  );
};
