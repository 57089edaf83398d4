/**
 * `npm run protocol`: a protocol node only (SPEC §2) — vault registry, oracle, liquidation
 * engine, auctions, the bsUSD ledger with accounts, the protocol key — behind its gateway, for
 * wallets to connect to (`npm run headless -- --connect URL`) and bots to call with tokens.
 *
 *   --port N  --data-dir DIR  --network NAME  --host ADDR  --allow-remote  --guardian-key KEY
 *   --public-url URL  where wallets reach it through a TLS proxy (sign-ins name that address)
 *   --db postgres://…  keep the node's data in PostgreSQL (BITSTABLE_DATABASE_URL): several
 *                      instances on one database serve calls, and one of them at a time leads
 *                      the background work (docs/architecture.md, "Several instances")
 *   (the same environment as `npm run headless`; on regtest it runs its own bitcoind)
 *
 * Prints its gateway URL, its node id, the admin URL (token in the fragment on the start that
 * made it, or with --show-link) and, on regtest,
 * its bitcoind's RPC so that wallets on the same machine can use it as their own node.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { NETWORKS, type NetworkName } from '../core/config/networks';
import { nodeOptionsFromEnv } from '../core/app/env-config';
import { isBitStableError } from '../core/errors';
import { startHeadless } from '../core/gateway/host';
import { createLogger, logEvents } from '../core/ops/log';
import { onSignals, openLine } from './headless';

const ROOT = resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  // Everything this host writes (logs, backups, token and key files, databases) is its user's
  // alone; folders made before this are tightened where they are opened (core/ops/private.ts).
  process.umask(0o077);
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      network: { type: 'string' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      'guardian-key': { type: 'string' },
      'show-link': { type: 'boolean' },
      'public-url': { type: 'string' },
      db: { type: 'string' },
    },
  });
  const env = process.env;
  const network = (values.network ?? env.BITSTABLE_NETWORK ?? 'regtest') as NetworkName;
  if (!(NETWORKS as readonly string[]).includes(network))
    fail(`Unknown network "${network}"; use one of ${NETWORKS.join(', ')}.`);
  const dataDir = resolve(
    values['data-dir'] ?? env.BITSTABLE_DATA_DIR ?? join(ROOT, 'data-protocol'),
  );
  const port = Number(values.port ?? env.BITSTABLE_PORT ?? '7430');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be a whole number from 0 to 65535; got ${values.port}.`);
  let connections: ReturnType<typeof nodeOptionsFromEnv>;
  try {
    connections = nodeOptionsFromEnv(
      {
        ...env,
        ...(values['guardian-key'] ? { BITSTABLE_GUARDIAN_KEY: values['guardian-key'] } : {}),
      },
      network,
    );
  } catch (err) {
    if (isBitStableError(err)) fail(err.message);
    throw err;
  }
  const logger = createLogger({
    base: { host: 'protocol', network },
    destination: pino.destination(2),
  });
  const db = values.db ?? env.BITSTABLE_DATABASE_URL;
  if (db !== undefined && !/^postgres(ql)?:\/\//.test(db))
    fail(
      `--db must be a PostgreSQL URL (postgres://user@host:port/database); got "${db.slice(0, 40)}".`,
    );
  const host = await startHeadless({
    ...(db ? { database: { postgres: db } } : {}),
    dataDir,
    network,
    port,
    host: values.host ?? env.BITSTABLE_HOST ?? '127.0.0.1',
    allowRemote: values['allow-remote'] ?? false,
    ...(env.BITSTABLE_PASSPHRASE ? { passphrase: env.BITSTABLE_PASSPHRASE } : {}),
    connections,
    ...(values['public-url'] ? { publicUrls: [values['public-url']] } : {}),
    logger,
  }).catch((err: unknown) => {
    if (isBitStableError(err)) fail(err.message);
    throw err;
  });
  logEvents(host.node.bus, logger);
  const regtest = host.node.regtest;
  const cookie = regtest ? join(regtest.dataDir, 'regtest', '.cookie') : null;
  process.stdout.write(
    [
      '',
      `BitStable protocol node on ${network}.`,
      `Node id: ${host.node.accounts.nodeId}`,
      ...(host.node.cluster ? [`Instance: ${host.node.cluster.id} on PostgreSQL`] : []),
      `Gateway: ${host.gateway.url}`,
      openLine(
        host.openUrl,
        host.tokenCreated || values['show-link'] === true,
        host.tokenFile,
      ).replace(/^Open:/, 'Admin:'),
      ...(regtest ? [`Bitcoin RPC: ${regtest.rpc.url} cookie=${cookie}`] : []),
      `Registration: ${host.node.accounts.registration}. Connect a wallet: npm run headless -- --connect ${host.gateway.url} --data-dir <its own folder>`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  onSignals(() => host.stop(), logger);
}

function fail(message: string): never {
  process.stderr.write(`bitstable: ${message}\n`);
  process.exit(2);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bitstable: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
