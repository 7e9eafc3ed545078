import { reservePort } from '@anlian/testing';

/** Teardown in reverse order of set-up; runs once, on success, failure or a signal. */
export class Teardown {
  readonly #steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  readonly #diagnostics: { name: string; tail: () => string }[] = [];
  #done: Promise<void> | undefined;

  /** Log tails to print when the run fails (say, a server killed by something else on the machine). */
  diagnose(name: string, tail: () => string): void {
    this.#diagnostics.push({ name, tail });
  }

  printDiagnostics(): void {
    for (const d of this.#diagnostics) {
      const tail = d.tail().split('\n').slice(-15).join('\n');
      process.stderr.write(`--- last lines of ${d.name}:\n${tail}\n`);
    }
  }

  add(name: string, run: () => Promise<unknown> | unknown): void {
    this.#steps.push({ name, run });
  }

  run(): Promise<void> {
    this.#done ??= (async () => {
      for (const s of this.#steps.reverse()) {
        try {
          await s.run();
        } catch (err) {
          process.stderr.write(`teardown: ${s.name} failed: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.#done;
  }
}

/**
 * Runs `body` with a fresh teardown that always runs at the end; SIGINT/SIGTERM run it too and
 * exit 130 (a second signal exits at once), and so does a broken stdout. On failure the
 * registered log tails are printed.
 */
export async function withTeardown(body: (teardown: Teardown) => Promise<number>): Promise<number> {
  const teardown = new Teardown();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping and cleaning up…\n`);
    void teardown.run().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Output piped into something that quit (`| head`): clean up rather than die on EPIPE and leave
  // the servers behind.
  process.stdout.once('error', (err) => {
    process.stderr.write(`stdout: ${err.message}; stopping and cleaning up…\n`);
    void teardown.run().finally(() => process.exit(1));
  });
  try {
    return await body(teardown);
  } catch (err) {
    teardown.printDiagnostics();
    throw err;
  } finally {
    await teardown.run();
  }
}

/** A port reserved for this run (`reservePort`: no other process picks it), given back at teardown. */
export async function reservedPort(teardown: Teardown): Promise<number> {
  const reservation = await reservePort();
  teardown.add(`port ${reservation.port}`, () => reservation.release());
  return reservation.port;
}
