import { startMosquitto } from '@anlian/testing';
import { childPidByName } from './child-pid.js';

export interface BenchBroker {
  url: string;
  pid: number | undefined;
  /** The settings that decide loss and throughput, for the report. */
  description: string;
  /** mosquitto's last log lines, for a failure message. */
  logTail(): string;
  stop(): Promise<void>;
}

export interface BenchBrokerOptions {
  /**
   * mosquitto's per-client queue beyond the in-flight window (default 1000). A subscriber that
   * falls behind by more loses QoS 1 messages at the broker, so the bench sets it explicitly.
   */
  maxQueuedMessages: number;
  /** Outgoing QoS 1 messages in flight per client (default 20). */
  maxInflightMessages: number;
}

/**
 * A private mosquitto 2 on 127.0.0.1 through the test harness. Anonymous: this is a benchmark
 * on loopback; production brokers use the per-gateway passwords and ACLs of `anlian broker-config`.
 */
export async function startBenchBroker(o: BenchBrokerOptions): Promise<BenchBroker> {
  const settings = [`max_queued_messages ${o.maxQueuedMessages}`, `max_inflight_messages ${o.maxInflightMessages}`];
  const broker = await startMosquitto({ configExtra: settings.join('\n') });
  return {
    url: broker.url,
    pid: childPidByName('mosquitto'),
    description: `mosquitto 2, anonymous on loopback, ${settings.join(', ')}`,
    logTail: () => broker.logTail(),
    stop: () => broker.stop(),
  };
}
