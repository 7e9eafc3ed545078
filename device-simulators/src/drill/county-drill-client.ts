import { z } from 'zod';
import { SimErrorCode, SimulatorError } from '../errors.js';

/** A gateway as the county's dashboard shows it (`GET /api/institutions/:id`). */
export interface CountyGateway {
  institution: string;
  gateway: string;
  state: 'online' | 'offline' | 'unknown';
}

const InstitutionSnapshot = z.object({
  gateways: z.array(z.object({ id: z.string(), state: z.enum(['online', 'offline', 'unknown']) })),
});
const DrillAnswer = z.object({
  gateway: z.string(),
  command: z.string(),
  state: z.string(),
  detail: z.string().optional(),
});
const RegisteredDrill = z.object({
  id: z.string(),
  name: z.string(),
  institutions: z.array(z.string()),
  gateways: z.array(DrillAnswer).optional(),
});
export type RegisteredDrill = z.infer<typeof RegisteredDrill>;
const DrillReport = z.object({
  drill: RegisteredDrill,
  alerts: z.array(z.object({ alertId: z.string(), institution: z.string(), nameZh: z.string(), status: z.string() })),
  summary: z.object({
    alerts: z.number(),
    acknowledged: z.number(),
    verified: z.number(),
    closed: z.number(),
    meanToAcknowledgeS: z.number().optional(),
    silentInstitutions: z.array(z.string()),
  }),
});
export type CountyDrillReport = z.infer<typeof DrillReport>;

/**
 * The county's dashboard API as `anlian drill` uses it (issue 13): sign in as an operator, see
 * whether the drill's gateways are already connected (a running simulator or real gateways), and
 * register the drill so its alarms are tagged, pushed with [演练] and scored.
 */
export class CountyDrillClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  #cookie: string | undefined;

  constructor(opts: { baseUrl: string; fetch?: typeof fetch }) {
    this.#base = opts.baseUrl.replace(/\/$/, '');
    this.#fetch = opts.fetch ?? fetch;
  }

  async login(username: string, password: string): Promise<void> {
    const res = await this.#call('POST', '/api/auth/login', { username, password }, false);
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    if (!cookie) throw this.#fail(`signing in at ${this.#base} gave no session`);
    this.#cookie = cookie;
  }

  /** The gateways of these institutions and whether the county hears them now. */
  async gateways(institutions: readonly string[]): Promise<CountyGateway[]> {
    const out: CountyGateway[] = [];
    for (const institution of institutions) {
      const body = InstitutionSnapshot.parse(
        await (await this.#call('GET', `/api/institutions/${encodeURIComponent(institution)}`)).json(),
      );
      for (const g of body.gateways) out.push({ institution, gateway: g.id, state: g.state });
    }
    return out;
  }

  async startDrill(d: {
    name: string;
    institutions: readonly string[];
    startsAt: number;
    endsAt: number;
  }): Promise<RegisteredDrill> {
    return RegisteredDrill.parse(await (await this.#call('POST', '/api/drills', d)).json());
  }

  async drill(id: string): Promise<RegisteredDrill | undefined> {
    const body = z
      .object({ drills: z.array(RegisteredDrill) })
      .parse(await (await this.#call('GET', '/api/drills')).json());
    return body.drills.find((d) => d.id === id);
  }

  /** Ends the drill now; one already over (its window passed) is left as it is. */
  async endDrill(id: string): Promise<void> {
    await this.#call('POST', `/api/drills/${encodeURIComponent(id)}/end`, {}, true, [404]);
  }

  async report(id: string): Promise<CountyDrillReport> {
    return DrillReport.parse(await (await this.#call('GET', `/api/drills/${encodeURIComponent(id)}/report`)).json());
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    signedIn = true,
    tolerate: number[] = [],
  ): Promise<Response> {
    if (signedIn && !this.#cookie) throw this.#fail('not signed in');
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.#cookie ? { cookie: this.#cookie } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw this.#fail(`the county's dashboard at ${this.#base} does not answer (${(err as Error).message})`);
    }
    if (!res.ok && !tolerate.includes(res.status)) {
      const text = await res.text();
      throw this.#fail(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
    }
    return res;
  }

  #fail(message: string): SimulatorError {
    return new SimulatorError(SimErrorCode.COUNTY_API, message);
  }
}
