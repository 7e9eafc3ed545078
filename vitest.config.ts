import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Integration tests start real brokers, influxd and PostgreSQL: give them room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // `expect.poll` waits for a state the system reaches by itself (a page after a click, a
    // gateway online). vitest's 1 s default is shorter than a browser round of shrink-photo →
    // upload → submit → reload on a CI machine running two test files beside it: fresh-clone run
    // ci5-1 failed there with the submission landing after the poll gave up (the next test then
    // closed that very hazard). A poll that is never satisfied still fails, after this long.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
