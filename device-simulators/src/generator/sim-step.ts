import type { EventPayload, HeartbeatPayload, StatusPayload, TelemetryPayload } from '@anlian/protocol';
import type { FaultType } from '../scenario/scenario-schema.js';
import type { TargetRef } from './select-targets.js';

/** What the simulated gateways publish (commands are county → gateway and not simulated). */
export type SimTopicType = 'status' | 'heartbeat' | 'telemetry' | 'event';

type PayloadOf = {
  status: StatusPayload;
  heartbeat: HeartbeatPayload;
  telemetry: TelemetryPayload;
  event: EventPayload;
};

interface StepBase {
  /** Simulated instant, ms since the epoch; the live runner sends the step when its clock gets here. */
  atSimMs: number;
  institution: string;
  gateway: string;
}

/** One MQTT message: always QoS 1 [the contract], `retain` only for `status`. */
export type SimPublish = {
  [T in SimTopicType]: StepBase & {
    kind: 'publish';
    type: T;
    device?: string;
    topic: string;
    /** The JSON text sent, checked against the topic's schema. */
    payload: string;
    /** The same payload as an object, for tests and hooks. */
    data: PayloadOf[T];
    qos: 1;
    retain: boolean;
    seq: number;
    /** A deliberate redelivery (scenario `duplicates`): same `seq` as the message before it. */
    duplicate?: true;
    /** Index of the scenario fault that produced or shaped this message. */
    fault?: number;
  };
}[SimTopicType];

/** Open the gateway's MQTT connection (username = client id = gateway id) with this last will. */
export interface SimConnect extends StepBase {
  kind: 'connect';
  will: { topic: string; payload: string; qos: 1; retain: true };
  reconnect: boolean;
  fault?: number;
}

/** Destroy the gateway's TCP connection without DISCONNECT, so that the broker publishes the will. */
export interface SimDrop extends StepBase {
  kind: 'drop';
  fault: number;
}

/** A scenario fault started or ended; the live runner reports it and calls its hooks. */
export interface FaultFired {
  index: number;
  id: string;
  type: FaultType;
  phase: 'start' | 'end';
  atSimMs: number;
  targets: readonly TargetRef[];
}

export interface SimFaultMark {
  kind: 'fault';
  atSimMs: number;
  fault: FaultFired;
}

export type SimStep = SimPublish | SimConnect | SimDrop | SimFaultMark;

/** A scenario fault with its time and targets resolved against the county. */
export interface ResolvedFault {
  index: number;
  id: string;
  type: FaultType;
  atSimMs: number;
  /** When its effect is over (restore, reconnect, cool-down), if it ends. */
  endSimMs?: number;
  targets: readonly TargetRef[];
  /** Line in the scenario file, when loaded from one. */
  line?: number;
}
