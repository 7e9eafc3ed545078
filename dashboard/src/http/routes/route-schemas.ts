import { z } from 'zod';
import { ROLES } from '../../store/dashboard-schema.js';

/** Shapes shared by several routes' schemas (and so by the OpenAPI document). */

/**
 * One problem with a request, for forms to show next to the field: `path` is a JSON pointer into
 * the body, query or parameters (`in`), empty for the request as a whole (an import's row); `code`
 * is zod's issue code (`too_small`, `invalid_format`, `custom`…) with its bound where it has one.
 */
export const ErrorIssue = z.object({
  in: z.enum(['body', 'querystring', 'params', 'headers', 'file']),
  path: z.string(),
  code: z.string(),
  message: z.string(),
  /** What a bound applies to: `string` (characters), `number`, `array` (items). */
  origin: z.string().optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
});
export type ErrorIssue = z.infer<typeof ErrorIssue>;

export const ErrorBody = z.object({ code: z.string(), message: z.string(), issues: z.array(ErrorIssue).optional() });

export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'an id of letters, digits, _ and -');

export const Role = z.enum(ROLES);

export const Me = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string(),
  role: Role,
  county: z.string(),
  institution: z.string().nullable(),
});

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
} as const;

/** Live snapshots are described by the socket.io contract (live-wire.ts); here they pass as objects. */
export const LooseObject = z.record(z.string(), z.unknown());
