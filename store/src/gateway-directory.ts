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

export interface GatewayDirectory {
  /** Verifies a gateway's MQTT credentials. `null` when unknown, disabled or the secret is wrong. */
  verifyGateway(id: string, secret: string): Promise<GatewayIdentity | null>;
  /** The gateway, or `undefined` when it is not registered. */
  getGateway(id: string): Promise<GatewayIdentity | undefined>;
}
