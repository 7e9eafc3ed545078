import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ProcessSampler } from '../src/ingest/process-sampler.js';

describe('ProcessSampler', () => {
  it.runIf(process.platform === 'linux')(
    'keeps the CPU a process used before it was killed during the window (bench --failover)',
    async () => {
      const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      try {
        const sampler = new ProcessSampler({ busy: child.pid });
        sampler.start(50);
        await new Promise((r) => setTimeout(r, 600));
        child.kill('SIGKILL');
        await exited;
        const usage = sampler.stop();
        // It spun for ~0.6 s: its last reading counts, not zero (or less).
        expect(usage.busy?.cpuSeconds).toBeGreaterThan(0.1);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});
