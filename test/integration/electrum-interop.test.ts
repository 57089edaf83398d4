/**
 * Electrum as the guardian's wallet (issue "The Ledger and the rest of the Bitcoin world"): the
 * real Electrum 4.3 from Debian, through its Python API, offline, on regtest. It builds the 2-of-3
 * wallet from the recovery kit's Electrum form (the guardian's own private key beside the two
 * public keys), shows the vaults' addresses, and signs a BitStable emergency exit as the
 * guardian; BitStable takes that PSBT and the coins arrive.
 *
 * Without Electrum the test is skipped with a message; on CI it must be there (`npm run setup`
 * installs it), so there it fails instead.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import bs58check from 'bs58check';
import { describe, expect, it } from 'vitest';
import { keyExpression } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { rootOf } from '../../core/keys/software-key';
import { recoveryKit } from '../../core/vaults/operations';
import { faucet, mine, receivedAt, useBitStableNode } from '../helpers/app';

const net = network('regtest');
/** A Python that imports Electrum: Debian's, whatever python3 is first on the PATH. */
const python = ['/usr/bin/python3', 'python3'].find(
  (p) => spawnSync(p, ['-c', 'import electrum'], { stdio: 'ignore' }).status === 0,
);
if (!python && !process.env.CI)
  console.warn(
    'Electrum is not installed (apt-get install electrum): the Electrum interop test is skipped.',
  );

const guardianSeed = randomBytes(32);
const guardian = softwareGuardianAccount(guardianSeed, net);
const t = useBitStableNode({ guardian: keyExpression(guardian) });

/** The guardian's account private key as Electrum wants it: SLIP-132 Vprv (p2wsh multisig). */
function guardianVprv(): string {
  const account = rootOf({ seed: guardianSeed }, net).derivePath(guardian.path);
  const raw = Uint8Array.from(bs58check.decode(account.toBase58()));
  new DataView(raw.buffer).setUint32(0, 0x02575048);
  return bs58check.encode(raw);
}

interface ElectrumAnswer {
  walletType: string;
  addresses: string[];
  psbt: string;
  complete: boolean;
}

function electrum(request: object): ElectrumAnswer {
  const run = spawnSync(python!, [join(__dirname, '../fixtures/electrum/guardian.py')], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`Electrum failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as ElectrumAnswer;
}

describe.skipIf(!python && !process.env.CI)('Electrum 4.3 as the guardian', () => {
  it("builds the 2-of-3 wallet from the kit's Electrum form, shows the vaults' addresses, and signs an emergency exit BitStable then sends", async () => {
    expect(python, 'Electrum must be installed on CI (npm run setup)').toBeDefined();
    const { app } = t();
    const vaults = [];
    for (let i = 0; i < 3; i++)
      vaults.push(
        await app.vaults.createVault({
          keySetId: app.keySetId,
          returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
        }),
      );
    const vault = vaults[2]!;
    await faucet(app, vault.address, 3_000_000);
    await mine(app);
    const [set] = (await recoveryKit(app.vaults, app.keySetId, app.network)).keySets;

    const destination = await app.regtest!.miner.newAddress();
    const exit = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === exit.spendId,
    )!;

    const answer = electrum({
      cosigners: set!.electrum.cosigners,
      guardianPrivate: guardianVprv(),
      count: 3,
      psbt: request.psbtBase64,
    });
    expect(answer.walletType).toBe('2of3');
    expect(answer.addresses).toEqual(set!.vaults.map((v) => v.address));
    // The owner signed already; with the guardian's signature Electrum finds it complete.
    expect(answer.complete).toBe(true);

    const done = await app.operations.completeWithGuardian(exit.spendId, answer.psbt);
    expect(done).toMatchObject({ state: 'broadcast' });
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(3_000_000 - exit.plan.feeSats);
    expect((await app.vaults.getVault(vault.id)).state).toBe('closed');
  }, 120_000);
});
