import type { SourceIssue } from '@anlian/protocol';
/** The simulator's error catalogue; codes are stable, messages are for people. */
export const SimErrorCode = {
  /** A scenario file does not parse or does not match the schema. */
  SCENARIO_INVALID: 'ANL_SIM_SCENARIO_INVALID',
  /** A scenario fault's target selects nothing in the simulated county. */
  TARGET_NOT_FOUND: 'ANL_SIM_TARGET_NOT_FOUND',
  /** A county file does not parse or does not match `CountyConfig`. */
  COUNTY_INVALID: 'ANL_SIM_COUNTY_INVALID',
  /** A command-line value (duration, load spec, start time) is malformed. */
  BAD_ARGUMENT: 'ANL_SIM_BAD_ARGUMENT',
  /** The county's dashboard API refused or did not answer (`anlian drill` registering its drill). */
  COUNTY_API: 'ANL_SIM_COUNTY_API',
  /** `anlian drill` would take over gateways the county hears already (a running simulator, real gateways). */
  GATEWAYS_IN_USE: 'ANL_SIM_GATEWAYS_IN_USE',
  /** The simulator was asked to start twice, or used after stop. */
  LIFECYCLE: 'ANL_SIM_LIFECYCLE',
} as const;
export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode];

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';

  constructor(
    readonly code: SimErrorCode,
    message: string,
    readonly issues: readonly SourceIssue[] = [],
  ) {
    super(message);
  }
}
