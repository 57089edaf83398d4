import { codeOf } from '../helpers/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Result } from '../../core/api/contract';
import { createApiService } from '../../core/api/dispatcher';
import { logicalHash } from '../../core/db/snapshot';
import { secretNames } from '../../core/keys/node-keys';
import { buildPsbt, finalizePsbt, type SpendPlan } from '../../core/psbt/build';
import type { SignContext, Signer } from '../../core/signers/types';
import { psbtFromFile, psbtToFile } from '../../core/signers/guardian-file';
import type { Sats } from '../../core/money';
import {
  coreGuardianWallet,
  expectLedgerBalanced,
  faucet,
  mine,
  receivedAt,
  setPrice,
  useBitStableNode,
} from '../helpers/app';

const t = useBitStableNode();
const tmp = mkdtempSync(join(tmpdir(), 'bitstable-psbt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A funded, Active vault with `debtCents` minted against it. */
async function fundedVault(amounts: number[], debtCents = 0) {
  const { app } = t();
  const vault = await app.vaults.createVault({
    keySetId: app.keySetId,
    returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  });
  for (const a of amounts) await faucet(app, vault.address, a);
  await mine(app);
  if (debtCents) await app.operations.mint(vault.id, debtCents);
  return await app.vaults.getVault(vault.id);
}

/** The PSBT with one field of its unsigned transaction changed. */
function reshaped(psbtBase64: string, change: (psbt: Psbt) => void): string {
  const psbt = Psbt.fromBase64(psbtBase64);
  change(psbt);
  return psbt.toBase64();
}

/** Counts a signer's signPsbt calls. */
function counting(signer: Signer): Signer & { calls: number } {
  const wrapped = {
    calls: 0,
    role: signer.role,
    kind: signer.kind,
    fingerprint: () => signer.fingerprint(),
    accountKey: () => signer.accountKey(),
    signPsbt: (psbt: string, ctx: SignContext) => {
      wrapped.calls++;
      return signer.signPsbt(psbt, ctx);
    },
  };
  return wrapped;
}

describe('withdrawals', () => {
  it('keeps the change in the vault and pays exactly the amount', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([20_000_000], 450_000);
    const destination = await app.regtest!.miner.newAddress();
    const result = await app.operations.withdraw(vault.id, 5_000_000, destination);
    expect(result.plan.outputs[0]).toEqual({ address: destination, amountSats: 5_000_000 });
    expect(result.plan.outputs[1]!.address).toBe(vault.address);
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(5_000_000);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 15_000_000 - result.plan.feeSats,
      debtCents: 450_000,
    });
    await expectLedgerBalanced(app);
  });

  it("leaves a history that names each deposit's transaction, two of one amount apart, and the withdrawal's", async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    const first = await faucet(app, vault.address, 10_000_000);
    await mine(app);
    const second = await faucet(app, vault.address, 10_000_000);
    await mine(app);
    await app.operations.mint(vault.id, 200_000);
    const destination = await app.regtest!.miner.newAddress();
    const sent = await app.operations.withdraw(vault.id, 15_000_000, destination);
    await mine(app);

    const api = createApiService({ core: app });
    const out = await api.dispatch('vaults.activity', { vaultId: vault.id }, { roles: ['admin'] });
    api.close();
    const fee = sent.plan.feeSats;
    // Newest first; the withdrawal's change is the vault's own coin, not a deposit.
    expect(
      out.ok &&
        (out.result as Result<'vaults.activity'>).items.map((i) => [
          i.kind,
          i.collateralChangeSats,
          i.collateralAfterSats,
          i.feeSats,
          i.txid,
        ]),
    ).toEqual([
      ['withdraw', -15_000_000 - fee, 5_000_000 - fee, fee, sent.txid],
      ['mint', 0, 20_000_000, null, null],
      ['deposit', 10_000_000, 20_000_000, null, second],
      ['deposit', 10_000_000, 10_000_000, null, first],
    ]);
  });

  it('that would leave the ratio under 150 % is refused before anything is signed, and changes nothing', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([10_000_000], 450_000); // $10,000 against $4,500: 222 %
    const owner = app.signers.owner;
    const spy = counting(owner);
    (app.signers as { owner: Signer }).owner = spy;
    try {
      const before = logicalHash(app.db);
      // Leaving 6,000,000 sats ($6,000) is 133 %.
      expect(
        await codeOf(() =>
          app.operations.withdraw(
            vault.id,
            4_000_000,
            'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
          ),
        ),
      ).toBe('RATIO_TOO_LOW');
      expect(spy.calls).toBe(0);
      expect(logicalHash(app.db)).toBe(before);
    } finally {
      (app.signers as { owner: Signer }).owner = owner;
    }
  });

  it('refuses bad destinations and amounts with typed errors', async () => {
    const { app } = t();
    const vault = await fundedVault([3_000_000]);
    const before = logicalHash(app.db);
    const dest = await app.regtest!.miner.newAddress();
    expect(
      await codeOf(() =>
        app.operations.withdraw(vault.id, 1_000, 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'),
      ),
    ).toBe('INVALID_ADDRESS');
    expect(await codeOf(() => app.operations.withdraw(vault.id, 1_000, vault.address))).toBe(
      'INVALID_ADDRESS',
    );
    expect(await codeOf(() => app.operations.withdraw(vault.id, -1, dest))).toBe('INVALID_AMOUNT');
    expect(await codeOf(() => app.operations.withdraw(vault.id, 0.5, dest))).toBe('INVALID_AMOUNT');
    expect(await codeOf(() => app.operations.withdraw(vault.id, 100, dest))).toBe('INVALID_AMOUNT'); // dust
    expect(await codeOf(() => app.operations.withdraw(vault.id, 3_000_000, dest))).toBe(
      'INSUFFICIENT_FUNDS',
    );
    expect(await codeOf(() => app.operations.withdraw(987_654, 1_000, dest))).toBe(
      'VAULT_NOT_FOUND',
    );
    expect(logicalHash(app.db)).toBe(before);
  });
});

describe('a spend while its owner is still signing', () => {
  it('is left alone by a background sync, and a second spend of the same vault is refused meanwhile', async () => {
    const { app } = t();
    const vault = await fundedVault([3_000_000]);
    const owner = app.signers.owner;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // A person reading the Ledger's screen: the signature comes later.
    (app.signers as { owner: Signer }).owner = {
      ...counting(owner),
      signPsbt: async (psbt: string, ctx: SignContext) => {
        await gate;
        return owner.signPsbt(psbt, ctx);
      },
    };
    try {
      const dest = await app.regtest!.miner.newAddress();
      const closing = app.operations.close(vault.id, dest);
      await new Promise((r) => setTimeout(r, 100));
      await app.sync();
      expect(await codeOf(() => app.operations.close(vault.id, dest))).toBe('SPEND_IN_FLIGHT');
      release();
      await closing;
      await mine(app);
      expect((await app.vaults.getVault(vault.id)).state).toBe('closed');
      const states = app.db
        .prepare('SELECT state FROM spends WHERE vault_id = ?')
        .pluck()
        .all(vault.id);
      expect(states).toEqual(['confirmed']);
    } finally {
      (app.signers as { owner: Signer }).owner = owner;
    }
  });
});

describe('minting and repaying', () => {
  it('refuses a mint that would leave the ratio under 150 %, under the debt floor, or on a stale price', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([10_000_000]); // $10,000 of collateral
    const before = logicalHash(app.db);
    expect(await codeOf(async () => await app.operations.mint(vault.id, 666_667))).toBe(
      'RATIO_TOO_LOW',
    ); // 149.99 %
    expect(await codeOf(async () => await app.operations.mint(vault.id, 4_999))).toBe(
      'DEBT_BELOW_FLOOR',
    );
    expect(await codeOf(async () => await app.operations.mint(vault.id, -5))).toBe(
      'INVALID_AMOUNT',
    );
    expect(await codeOf(async () => await app.operations.mint(vault.id, 1.5))).toBe(
      'INVALID_AMOUNT',
    );
    expect(await codeOf(async () => await app.operations.repay(vault.id, 100))).toBe(
      'INVALID_AMOUNT',
    ); // more than its debt of 0
    expect(logicalHash(app.db)).toBe(before);
    // Exactly 150 % is allowed.
    expect((await app.operations.mint(vault.id, 666_666)).debtCents).toBe(666_666);
    // Repaying from a balance that is not there is refused.
    const other = await fundedVault([10_000_000]);
    await app.operations.mint(other.id, 100_000);
    await app.operations.repay(vault.id, 666_666 - 100_000); // leaves 100,000 of vault's debt; holder had 766,666
    expect(await codeOf(async () => await app.operations.repay(other.id, 100_001))).toBe(
      'INVALID_AMOUNT',
    );
    await expectLedgerBalanced(app);
  });
});

describe('the protocol signer', () => {
  it('refuses a tampered PSBT: a changed output, an extra output, another input', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([4_000_000, 3_000_000]);
    const other = await fundedVault([2_000_000]);
    const dest = await app.regtest!.miner.newAddress();
    const preview = await app.operations.previewWithdraw(vault.id, 1_000_000, dest);
    const otherPreview = await app.operations.previewWithdraw(other.id, 1_000_000, dest);
    const keys = await app.vaults.keySet(vault.keySetId);
    const ctx: SignContext = {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
    };
    const attacker = await app.regtest!.miner.newAddress();
    const plan = preview.plan;
    const tampered: [string, () => string][] = [
      [
        'a changed output',
        () =>
          buildPsbt(
            {
              ...plan,
              outputs: [{ address: attacker, amountSats: 1_000_000 as Sats }, plan.outputs[1]!],
            },
            preview.source,
          ).toBase64(),
      ],
      [
        'an extra output',
        () =>
          buildPsbt(
            {
              ...plan,
              outputs: [
                plan.outputs[0]!,
                { address: attacker, amountSats: 10_000 as Sats },
                { ...plan.outputs[1]!, amountSats: (plan.outputs[1]!.amountSats - 10_000) as Sats },
              ],
            },
            preview.source,
          ).toBase64(),
      ],
      [
        'another input',
        () =>
          buildPsbt(
            { ...plan, inputs: otherPreview.plan.inputs } as SpendPlan,
            otherPreview.source,
          ).toBase64(),
      ],
      [
        'one input fewer',
        () => buildPsbt({ ...plan, inputs: plan.inputs.slice(0, 1) }, preview.source).toBase64(),
      ],
      // The same coins and outputs, but a transaction BitStable never builds.
      ['a locktime', () => reshaped(preview.psbtBase64, (p) => p.setLocktime(800_000))],
      ['another version', () => reshaped(preview.psbtBase64, (p) => p.setVersion(1))],
      [
        'a final sequence',
        () => reshaped(preview.psbtBase64, (p) => p.setInputSequence(0, 0xffffffff)),
      ],
    ];
    for (const [what, make] of tampered) {
      const ownerSigned = await app.signers.owner.signPsbt(make(), ctx);
      expect(
        await codeOf(() =>
          app.signers.protocol.approveAndSign(ownerSigned, plan, preview.facts, ctx),
        ),
        what,
      ).toBe('SIGNER_REFUSED');
    }
    // The untampered PSBT is signed.
    const good = await app.signers.owner.signPsbt(preview.psbtBase64, ctx);
    const cosigned = await app.signers.protocol.approveAndSign(good, plan, preview.facts, ctx);
    expect(finalizePsbt([good, cosigned], app.network).txid).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a plan that breaks the rules even when the PSBT matches it', async () => {
    const { app } = t();
    await setPrice(app, 10_000_000);
    const vault = await fundedVault([10_000_000], 450_000);
    const dest = await app.regtest!.miner.newAddress();
    const preview = await app.operations.previewWithdraw(vault.id, 1_000_000, dest);
    const keys = await app.vaults.keySet(vault.keySetId);
    const ctx: SignContext = {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
    };
    // A plan taking 3,500,000 sats out leaves $6,500 − fee against $4,500: under 150 %.
    const greedy: SpendPlan = {
      ...preview.plan,
      outputs: [
        { address: dest, amountSats: 3_500_000 as Sats },
        {
          address: vault.address,
          amountSats: (preview.plan.outputs[1]!.amountSats - 2_500_000) as Sats,
        },
      ],
    };
    const psbt = await app.signers.owner.signPsbt(
      buildPsbt(greedy, preview.source).toBase64(),
      ctx,
    );
    expect(
      await codeOf(() => app.signers.protocol.approveAndSign(psbt, greedy, preview.facts, ctx)),
    ).toBe('SIGNER_REFUSED');
    // A fee the plan declares at a sane rate but that is far above the node's own estimate now:
    // the cap is measured against the node, not against what the plan says of itself.
    const change = preview.plan.outputs[1]!;
    const costly: SpendPlan = {
      ...preview.plan,
      outputs: [
        preview.plan.outputs[0]!,
        { ...change, amountSats: (change.amountSats - 50_000) as Sats },
      ],
      feeSats: (preview.plan.feeSats + 50_000) as Sats,
    };
    const costlyPsbt = await app.signers.owner.signPsbt(
      buildPsbt(costly, preview.source).toBase64(),
      ctx,
    );
    await expect(
      app.signers.protocol.approveAndSign(costlyPsbt, costly, preview.facts, ctx),
    ).rejects.toMatchObject({ code: 'SIGNER_REFUSED', message: expect.stringContaining('fee') });
    // And it never co-signs an emergency exit (an exit takes a vault with no debt).
    const free = await fundedVault([2_000_000]);
    const exit = await app.operations.previewEmergencyExit(free.id, dest);
    expect(
      await codeOf(() =>
        app.signers.protocol.approveAndSign(exit.psbtBase64, exit.plan, exit.facts, ctx),
      ),
    ).toBe('SIGNER_REFUSED');
  });
});

describe('emergency exit', () => {
  it('moves all collateral with owner + guardian, without the protocol key', async () => {
    const { app } = t();
    const vault = await fundedVault([6_000_000, 1_500_000]);
    // Both deposits confirmed and counted before the exit (a CI run once planned with one coin).
    expect(
      app.db
        .prepare(
          'SELECT amount_sats FROM vault_utxos WHERE vault_id = ? AND confirmations >= 1 ORDER BY amount_sats',
        )
        .pluck()
        .all(vault.id),
    ).toEqual([1_500_000, 6_000_000]);
    expect(vault.collateralSats).toBe(7_500_000);
    const protocol = app.signers.protocol;
    let protocolCalls = 0;
    (app.signers as { protocol: unknown }).protocol = {
      approveAndSign: (...args: Parameters<typeof protocol.approveAndSign>) => {
        protocolCalls++;
        return protocol.approveAndSign(...args);
      },
    };
    try {
      const dest = await app.regtest!.miner.newAddress();
      const result = await app.operations.emergencyExit(vault.id, dest);
      expect(result.plan.inputs).toHaveLength(2);
      await mine(app);
      expect(protocolCalls).toBe(0);
      expect(await receivedAt(app, dest)).toBe(7_500_000 - result.plan.feeSats);
      expect(await app.vaults.getVault(vault.id)).toMatchObject({
        state: 'closed',
        collateralSats: 0,
      });
    } finally {
      (app.signers as { protocol: unknown }).protocol = protocol;
    }
  });
});

describe('PSBT interoperability', () => {
  it("an exported PSBT is signed by Bitcoin Core's wallet holding the guardian key, and finalizes", async () => {
    const { app, keyStore } = t();
    const vault = await fundedVault([2_000_000]);
    const dest = await app.regtest!.miner.newAddress();
    const preview = await app.operations.previewClose(vault.id, dest);
    const keys = await app.vaults.keySet(vault.keySetId);
    const ctx: SignContext = {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
    };
    const ownerSigned = await app.signers.owner.signPsbt(preview.psbtBase64, ctx);

    // Export as a binary file, as a user would hand it to another wallet.
    const file = join(tmp, 'close.psbt');
    await psbtToFile(ownerSigned, file, 'binary');
    const exported = await psbtFromFile(file);

    // A Core descriptor wallet holding the guardian's private key.
    const guardianSeed = await keyStore.get(secretNames(app.network).guardianSeed);
    const processPsbt = await coreGuardianWallet(app, guardianSeed, keys, 'guardian');
    const processed = await processPsbt(exported, false);
    const guardianPubkey = preview.source.script.derivations.find(
      (d) => d.role === 'guardian',
    )!.pubkey;
    const sigs = Psbt.fromBase64(processed.psbt).data.inputs[0]!.partialSig ?? [];
    expect(sigs.some((s) => Buffer.compare(s.pubkey, guardianPubkey) === 0)).toBe(true);

    const { txHex } = finalizePsbt([processed.psbt], app.network);
    await app.chain.testMempoolAccept(txHex);
    await app.chain.broadcast(txHex);
    await mine(app);
    expect(await receivedAt(app, dest)).toBe(2_000_000 - preview.plan.feeSats);
  });
});
