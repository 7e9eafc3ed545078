import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  node: string;
  mosquitto: string;
  influxd: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAverage: number[];
}

/** The first line a tool prints about its version. */
export function toolVersion(cmd: string, args: string[]): string {
  try {
    return (
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]
        ?.trim() ?? ''
    );
  } catch (err) {
    // `mosquitto -h` exits 3 after printing its version.
    const out = (err as { stdout?: string }).stdout ?? '';
    return out.split('\n')[0]?.trim() ?? 'unknown';
  }
}

/** What a result depends on: cores, Node, the servers' versions and how busy the machine was. */
export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    mosquitto: toolVersion('mosquitto', ['-h']),
    influxd: toolVersion('influxd', ['version']),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
