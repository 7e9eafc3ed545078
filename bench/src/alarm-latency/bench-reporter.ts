/**
 * What an alerting process of bench:alarm-latency tells the bench over IPC, whichever form runs it
 * (ingest + alerting in one process, or `anlian alerting` on its own): `raised` for every alert,
 * stamped in the `AlertingService.onChange` listener (called synchronously by the raise, right
 * after the first push was handed to the dispatcher), and `stats` on request — the process's
 * event-loop delay and how long alerting's periodic ticks took (measured by wrapping
 * `AlertingService.tick`, which its timer calls through the instance; behaviour unchanged).
 */

import { performance } from 'node:perf_hooks';
import type { AlertingService } from '@anlian/alerting';
import type { Logger } from 'pino';
import type { AlertingChildCommand, AlertingChildReport, TickStats } from './alarm-messages.js';
import type { LoopDelayMonitor } from './loop-delay-monitor.js';

const send = (report: AlertingChildReport) => process.send?.(report);

export function reportToBench(service: AlertingService, loop: LoopDelayMonitor, logger: Logger): void {
  service.onChange((change) => {
    if (change.type !== 'raised') return;
    const raisedAt = Date.now();
    const a = change.alert;
    send({
      type: 'raised',
      alertId: a.id,
      rule: a.rule,
      severity: a.severity,
      gateway: a.gateway,
      device: a.device,
      openedAt: a.openedAt,
      raisedAt,
    });
  });
  let ticks: number[] = [];
  const tick = service.tick.bind(service);
  service.tick = (now?: number) => {
    const started = performance.now();
    try {
      tick(now);
    } finally {
      ticks.push(performance.now() - started);
    }
  };
  const tickStats = (): TickStats => {
    const sorted = ticks.sort((a, b) => a - b);
    ticks = [];
    const r1 = (n: number) => Math.round(n * 10) / 10;
    return {
      count: sorted.length,
      p50: r1(sorted[Math.floor(sorted.length / 2)] ?? 0),
      max: r1(sorted.at(-1) ?? 0),
      totalMs: r1(sorted.reduce((a, b) => a + b, 0)),
    };
  };
  process.on('message', (cmd: AlertingChildCommand) => {
    switch (cmd.type) {
      case 'stats':
        send({ type: 'stats', loopDelay: loop.read(), tick: tickStats() });
        return;
      default: {
        const never: never = cmd.type;
        logger.warn({ cmd: never }, 'unknown bench command');
      }
    }
  });
}
