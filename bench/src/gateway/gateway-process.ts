import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// The gateway as deployed: its launcher (deploy/gateway/anlian-gateway.service runs it), which
// execs node with the gateway's flags, so the measured process is the one a box runs.
// GATEWAY_NODE_FLAGS runs `node $GATEWAY_NODE_FLAGS gateway-entry.js` instead, to compare
// flags; GATEWAY_NODE_FLAGS='' measures Node's defaults (what `anlian gateway` gets).
const GATEWAY_LAUNCHER = fileURLToPath(new URL('../../../gateway/bin/anlian-gateway', import.meta.url));
const GATEWAY_ENTRY = fileURLToPath(new URL('../../../gateway/dist/gateway-entry.js', import.meta.url));
export const GATEWAY_NODE_FLAGS = process.env.GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean);

export function gatewayCommand(configFile: string): [string, string[]] {
  return GATEWAY_NODE_FLAGS === undefined
    ? [GATEWAY_LAUNCHER, ['--config', configFile]]
    : [process.execPath, [...GATEWAY_NODE_FLAGS, GATEWAY_ENTRY, '--config', configFile]];
}

/** How the bench says which gateway it measures. */
export const gatewayDescription = (): string =>
  GATEWAY_NODE_FLAGS === undefined
    ? 'gateway/bin/anlian-gateway, as deployed'
    : `node ${GATEWAY_NODE_FLAGS.join(' ') || '(default flags)'} gateway-entry.js`;

/** The measured process's own command line, as the kernel has it (after the launcher's exec). */
async function commandLine(pid: number): Promise<string[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    if (argv.some((a) => a.endsWith('gateway-entry.js')) || Date.now() > until) return argv;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface GatewayProcess {
  pid: number;
  command: string[];
  /** The Node flags the kernel says it runs with. */
  nodeFlags: string[];
  exited: Promise<unknown>;
  /** SIGTERM (graceful drain), then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL if still running (cleanup). */
  kill(): Promise<void>;
}

/** Starts `anlian-gateway --config FILE` as its own process and checks that the pid is the gateway. */
export async function spawnGateway(configFile: string): Promise<GatewayProcess> {
  const [command, args] = gatewayCommand(configFile);
  const gw: ChildProcess = spawn(command, args, {
    stdio: ['ignore', process.env.BENCH_GATEWAY_STDOUT ? 'inherit' : 'ignore', 'inherit'],
    // The launcher runs `node` from PATH unless NODE says which: the bench's own.
    env: { ...process.env, NODE: process.execPath },
  });
  const exited = new Promise((resolve) => gw.once('exit', resolve));
  const pid = gw.pid as number;
  const argv = await commandLine(pid);
  const entryAt = argv.findIndex((a) => a.endsWith('gateway-entry.js'));
  if (entryAt < 0) {
    gw.kill('SIGKILL');
    throw new Error(`the measured process is not the gateway: ${argv.join(' ')}`);
  }
  return {
    pid,
    command: [command, ...args],
    nodeFlags: argv.slice(1, entryAt),
    exited,
    async stop() {
      if (gw.exitCode === null && gw.signalCode === null) gw.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (gw.exitCode === null && gw.signalCode === null) gw.kill('SIGKILL');
      await exited;
    },
  };
}
