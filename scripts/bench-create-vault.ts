/**
 * Benchmark of vault creation (issue "A protocol node that outgrows one machine" item 4), on a
 * real regtest bitcoind and a real SQLite database:
 *
 *   bench create_vault vaults=… key_sets=… ranged_per_s=… ranged_ms_p99=… one_key_set_per_s=… one_key_set_ms_p99=… per_vault_per_s=… per_vault_ms_p99=… ecc=…
 *
 * - ranged: the node's way, one ranged descriptor per key set grown ahead of use, so a creation
 *   is a database insert (and now and then a range growth in the background). 32 key sets, as a
 *   node serving many owners has; each was registered, and its first range imported, before.
 * - one_key_set: the same number of vaults in a single key set, as fast as it will go. Here the
 *   range grows while it is measured, and Bitcoin Core re-derives a grown range from index 0,
 *   so creations catch up with the import and wait for it (what bounds one owner's burst).
 * - per_vault: the earlier way, one importdescriptors call per vault, in the same run.
 *
 * Each with 32 callers at once, each awaiting its creation before asking for the next, as wallets
 * do (the service batches what arrives while it commits). A call's time runs from the ask to the
 * vault. Target: ranged ≥ 1,000/s. Run: npx tsx scripts/bench-create-vault.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateMnemonic } from 'bip39';
import { keyExpression } from '../core/bitcoin/keys';
import { network } from '../core/config/networks';
import { openDatabase } from '../core/db/database';
import { EventBus } from '../core/events/bus';
import { accountOf, rootOf } from '../core/keys/software-key';
import { derivationBackend } from '../core/bitcoin/ecc';
import { CoreNode } from '../core/node/bitcoin-node';
import { RegtestNode } from '../core/node/regtest';
import { sqliteStore } from '../core/store/sqlite';
import { VaultService } from '../core/vaults/vault-service';
import { pct } from './bench/percentile';

const net = network('regtest');
const CALLERS = 32;
const KEY_SETS = 32;

export interface CreateVaultBenchResult {
  rangedPerS: number;
  rangedP99: number;
  oneKeySetPerS: number;
  perVaultPerS: number;
  perVaultP99: number;
  line: string;
}

export async function main(
  options: { ranged?: number; perVault?: number; print?: boolean } = {},
): Promise<CreateVaultBenchResult> {
  const rangedCount = options.ranged ?? 5_000;
  const perVaultCount = options.perVault ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'bitstable-bench-create-'));
  const regtest = await RegtestNode.start({});
  const db = openDatabase(join(dir, 'bitstable.sqlite'));
  try {
    const chain = new CoreNode(regtest.rpc);
    await chain.ensureWatchWallet();
    const failures: unknown[] = [];
    const serviceFor = (watch: 'ranged' | 'per-vault') =>
      new VaultService({
        store: sqliteStore(db),
        node: chain,
        network: net,
        params: net.defaults,
        bus: new EventBus(),
        watch,
        failed: (_task, err) => failures.push(err),
      });
    const key = () => keyExpression(accountOf(rootOf({ mnemonic: generateMnemonic() }, net), net));

    const timed = async (watch: 'ranged' | 'per-vault', count: number, keySets: number) => {
      const service = serviceFor(watch);
      const ids: number[] = [];
      for (let k = 0; k < keySets; k++) {
        const keySetId = await service.registerKeySet({
          owner: key(),
          protocol: key(),
          guardian: key(),
        });
        await service.createVault({ keySetId }); // the key set's first range import: not timed
        ids.push(keySetId);
      }
      const samples: number[] = [];
      const started = performance.now();
      let asked = 0;
      const caller = async () => {
        while (asked < count) {
          const n = asked++;
          const keySetId = ids[n % ids.length]!;
          const t = performance.now();
          await service.createVault({ keySetId, label: `bench ${n}` });
          samples.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: CALLERS }, caller));
      const seconds = (performance.now() - started) / 1000;
      return { perS: count / seconds, p99: pct(samples, 0.99) };
    };

    const ranged = await timed('ranged', rangedCount, KEY_SETS);
    const oneKeySet = await timed('ranged', rangedCount, 1);
    const perVault = await timed('per-vault', perVaultCount, 1);
    if (failures.length > 0) throw new Error(`a range growth failed: ${String(failures[0])}`);
    const line =
      `bench create_vault vaults=${rangedCount} key_sets=${KEY_SETS} ranged_per_s=${ranged.perS.toFixed(0)} ranged_ms_p99=${ranged.p99.toFixed(2)} ` +
      `one_key_set_per_s=${oneKeySet.perS.toFixed(0)} one_key_set_ms_p99=${oneKeySet.p99.toFixed(2)} callers=${CALLERS} ` +
      `per_vault_vaults=${perVaultCount} per_vault_per_s=${perVault.perS.toFixed(1)} per_vault_ms_p99=${perVault.p99.toFixed(2)} ecc=${derivationBackend} target_per_s=1000`;
    if (options.print !== false) console.log(line);
    return {
      rangedPerS: ranged.perS,
      rangedP99: ranged.p99,
      oneKeySetPerS: oneKeySet.perS,
      perVaultPerS: perVault.perS,
      perVaultP99: perVault.p99,
      line,
    };
  } finally {
    db.close();
    await regtest.stop();
    rmSync(regtest.dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
