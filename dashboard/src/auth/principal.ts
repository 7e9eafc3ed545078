import type { Role } from '../store/dashboard-schema.js';

/** Who makes a request: a signed-in user or a wall screen signed in with a kiosk token. */
export interface Principal {
  /** The user's id, or `kiosk:<token id>`. */
  id: string;
  /** The username, or the kiosk token's name; what the audit log records as the actor. */
  name: string;
  displayName: string;
  role: Role;
  county: string;
  /** Set for `institution_manager`: the only institution they see and act on. */
  institution: string | null;
  sessionId: string;
}

/** Actions, each allowed to a set of roles; the institution scope is checked apart. */
const ALLOWED = {
  /** Read the county: map, figures, alerts, history. */
  read: ['county_admin', 'county_operator', 'institution_manager', 'viewer'],
  /** Acknowledge, verify and close alerts. */
  actOnAlerts: ['county_admin', 'county_operator', 'institution_manager'],
  /** Silences and drills. */
  manageSilences: ['county_admin', 'county_operator'],
  manageDrills: ['county_admin', 'county_operator'],
  /** Start a duty check (查岗) of an institution's fire control room: the county's supervision. */
  dutyChecks: ['county_admin', 'county_operator'],
  /** Supervision reports: county roles all of the county's, a manager their institution's (issue 17). */
  readReports: ['county_admin', 'county_operator', 'institution_manager'],
  /**
   * The hazard ledger's county side (issue 16): open, assign, review and withdraw hazards,
   * inspections, complaints and violations, the random draw.
   */
  supervise: ['county_admin', 'county_operator'],
  /** Work on a hazard: start it, submit the rectification with photos (a manager: their own). */
  rectify: ['county_admin', 'county_operator', 'institution_manager'],
  /** Escalation policy of an institution (its manager may set their own). */
  managePolicy: ['county_admin', 'institution_manager'],
  /** Registry, gateways' credentials, users, kiosk tokens, imports; the audit log. */
  admin: ['county_admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Action = keyof typeof ALLOWED;

export function roleMay(role: Role, action: Action): boolean {
  return (ALLOWED[action] as readonly Role[]).includes(role);
}

/** A manager sees only their institution; county roles see every institution of their county. */
export function canSeeInstitution(p: Principal, institution: string): boolean {
  return p.role !== 'institution_manager' || p.institution === institution;
}
