import { defineConfig } from 'vitest/config';

/** Integration files that stay on SQLite only (see the integration-pg project). */
const PG_EXCLUDED = [
  // They query the node's SQLite file directly.
  'accounts',
  'auction-cure',
  'gateway',
  'gateway-held',
  'guardian-file',
  'liquidation',
  'peg',
  'playground',
  'pool',
  'redemption',
  'vault-spends',
  'wallet',
  'wallet-ledger',
  // About SQLite itself: backups and restores of the file, a crash between its writes.
  'backup',
  // PostgreSQL's own tests, which start their own clusters.
  'pg-schema',
  'pg-leader',
  'pg-events',
  'pg-store-auctions',
  'pg-store-ledger',
  'pg-store-vaults',
  'pg-failover',
  'pg-backup',
  // Its PostgreSQL half starts a cluster of its own; its SQLite half reads the file.
  'soak-race',
];

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
        // The same suite with the protocol node on PostgreSQL (a private cluster for the run).
        // Left out: files that read or write the node's SQLite file directly (their statements
        // are SQLite's), and files about SQLite itself or the wallet's own database.
        test: {
          name: 'integration-pg',
          include: ['test/integration/**/*.test.ts'],
          exclude: PG_EXCLUDED.map((f) => `test/integration/${f}.test.ts`),
          environment: 'node',
          env: { BITSTABLE_STABILITY_FEE_BPS: '0', BITSTABLE_TEST_DB: 'postgres' },
          globalSetup: ['test/setup/postgres-global.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
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
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
