import { defineConfig } from 'vitest/config';

// Separate, named runners: unit (fast, no processes), integration (real regtest bitcoind),
// e2e (a real browser against the headless host).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // Hosts the tests start run without a stability fee, so debts stay the amounts minted;
          // the fee's own tests set one.
          env: { BITSTABLE_STABILITY_FEE_BPS: '0' },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file starts its own bitcoind; two cores run two at a time at most.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // A real browser (Debian's chromium through playwright-core) against the headless host.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          env: { BITSTABLE_STABILITY_FEE_BPS: '0' },
          testTimeout: 180_000,
          hookTimeout: 240_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
