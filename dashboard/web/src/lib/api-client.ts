/** One problem with a request (the server's `ErrorIssue`): `path` points into the body, empty for the whole. */
export interface ApiIssue {
  in: 'body' | 'querystring' | 'params' | 'headers' | 'file';
  path: string;
  code: string;
  message: string;
  /** What a bound applies to: `string`, `number`, `array`. */
  origin?: string;
  minimum?: number;
  maximum?: number;
}

/** The dashboard's REST API, same origin, session cookie. Errors carry the server's `ANL_…` code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }
}

async function send<T>(method: string, path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, { method, credentials: 'same-origin', ...init });
  const text = await res.text();
  const data = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (data ?? {}) as { code?: string; message?: string; issues?: ApiIssue[] };
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.statusText, e.issues ?? []);
  }
  return data as T;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  return send<T>(method, path, {
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

/** Sends a file as the request body (a registry import), typed by `contentType`. */
export async function apiUpload<T>(path: string, file: Blob, contentType: string): Promise<T> {
  return send<T>('POST', path, { headers: { 'content-type': contentType }, body: file });
}

export interface Me {
  id: string;
  name: string;
  displayName: string;
  role: 'county_admin' | 'county_operator' | 'institution_manager' | 'viewer';
  county: string;
  institution: string | null;
}
