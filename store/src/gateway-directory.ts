/**
 * What the broker needs to know about gateways. The operational store implements it;
 * the broker and ingest depend on this seam, not on the store.
 */
export interface GatewayIdentity {
  /** Globally unique gateway id; also its MQTT client id and username. */
  id: string;
  county: string;
  institution: string;
  enabled: boolean;
}

export interface VerifyGatewayOptions {
  /** Aborted when the requester is gone (its connection closed, the server stopping): a verification still waiting for its turn is dropped unhashed and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Only a secret verified recently (the directory's cache) may pass; anything else is `null`
   * without hashing. For a gateway id under a password-guessing attack: its own gateway, verified
   * before, still connects, and the guesses cost nothing.
   */
  cachedOnly?: boolean;
}

export interface GatewayDirectory {
  /**
   * Verifies a gateway's MQTT credentials. `null` when unknown, disabled or the secret is wrong.
   * Rejects with `ANL_ERR_VERIFY_BUSY` when too many verifications wait, and when `signal` aborts.
   */
  verifyGateway(id: string, secret: string, opts?: VerifyGatewayOptions): Promise<GatewayIdentity | null>;
  /** The gateway, or `undefined` when it is not registered. */
  getGateway(id: string): Promise<GatewayIdentity | undefined>;
}
