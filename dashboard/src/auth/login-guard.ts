import { type AttemptOutcome, FailureLimiter, StoreErrorCode } from '@anlian/store';
import { DashboardError, DashboardErrorCode } from '../errors.js';

/** Failed sign-ins tolerated before further ones are refused unverified (GB/T 22239-2019 8.1.4.1 b). */
export interface LoginGuardLimits {
  /** Failed logins and kiosk sign-ins per client address per window. */
  perAddress: number;
  /** Failed logins per username per window, from any address: a spread guessing attack locks the account for the window. */
  perUsername: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_GUARD_LIMITS: Readonly<LoginGuardLimits> = Object.freeze({
  perAddress: 20,
  perUsername: 50,
  windowMs: 15 * 60_000,
});

/**
 * Sign-in attempts under attack: an address or a username that has failed too often is refused
 * with 429 before its password is hashed (scrypt, tens of ms on a thread of libuv's small pool),
 * and attempts being verified count, so that a burst cannot queue thousands of hashes before the
 * first failure is known. The hashing itself is bounded by the user store's `VerificationGate`.
 */
export class LoginGuard {
  readonly #byAddress: FailureLimiter;
  readonly #byUsername: FailureLimiter;

  constructor(limits: Partial<LoginGuardLimits> = {}, clock?: () => number) {
    const l = { ...DEFAULT_LOGIN_GUARD_LIMITS, ...limits };
    this.#byAddress = new FailureLimiter({ max: l.perAddress, windowMs: l.windowMs, ...(clock ? { clock } : {}) });
    this.#byUsername = new FailureLimiter({ max: l.perUsername, windowMs: l.windowMs, ...(clock ? { clock } : {}) });
  }

  /**
   * Runs `verify` for a sign-in from `address` (for `username`, when there is one) unless either
   * is over its limit; `verify` resolves to the principal, or undefined when the credentials are
   * wrong. Throws 429 when refused, and when too many verifications are already waiting.
   */
  async attempt<T>(
    who: { address: string; username?: string },
    verify: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const username = who.username === undefined ? undefined : who.username.toLowerCase();
    if (!this.#byAddress.allows(who.address) || (username !== undefined && !this.#byUsername.allows(username))) {
      throw new DashboardError(DashboardErrorCode.RATE_LIMITED, 'too many failed sign-ins; try again later');
    }
    this.#byAddress.begin(who.address);
    if (username !== undefined) this.#byUsername.begin(username);
    let outcome: AttemptOutcome = 'abandoned';
    try {
      const result = await verify();
      outcome = result === undefined ? 'failed' : 'succeeded';
      return result;
    } catch (err) {
      if ((err as { code?: unknown }).code === StoreErrorCode.BUSY) {
        throw new DashboardError(
          DashboardErrorCode.RATE_LIMITED,
          'too many sign-ins being checked; try again shortly',
          {
            cause: err,
          },
        );
      }
      throw err;
    } finally {
      this.#byAddress.end(who.address, outcome);
      if (username !== undefined) this.#byUsername.end(username, outcome);
    }
  }
}
