/**
 * The guardian who is not on this computer (every network but regtest): an imported xpub whose
 * signature comes back as a PSBT file. Here on a real regtest chain the node runs with such a
 * guardian; "elsewhere" is Bitcoin Core's wallet holding the guardian's private key (emergency
 * exit) and a separate software wallet (settlement), as a guardian's own wallet would be.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { keyExpression } from '../../core/bitcoin/keys';
import { network as networkInfo } from '../../core/config/networks';
import { logicalHash } from '../../core/db/snapshot';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { rootOf } from '../../core/keys/software-key';
import { finalizePsbt } from '../../core/psbt/build';
import { holderAccount } from '../../core/ledger/bsusd';
import type { Cents } from '../../core/money';
import { setVaultDebt } from '../../core/vaults/debt';
import { psbtFromFile, psbtToFile } from '../../core/signers/guardian-file';
import { SoftwareSigner } from '../../core/signers/software';
import type { SignContext } from '../../core/signers/types';
import { codeOf } from '../helpers/errors';
import {
  coreGuardianWallet,
  expectLedgerBalanced,
  faucet,
  mine,
  receivedAt,
  setPrice,
  useBitStableNode,
  badDebtBooked,
} from '../helpers/app';

const net = networkInfo('regtest');
// The guardian's seed lives in the guardian's own wallet; the node is given only its xpub.
const guardianSeed = randomBytes(32);
const guardianKey = keyExpression(softwareGuardianAccount(guardianSeed, net));

const t = useBitStableNode({ guardian: guardianKey });
const tmp = mkdtempSync(join(tmpdir(), 'bitstable-guardian-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function fundedVault(amount: number, returnAddress?: string) {
  const { app } = t();
  const vault = await app.vaults.createVault({
    keySetId: app.keySetId,
    returnAddress: returnAddress ?? 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
  });
  await faucet(app, vault.address, amount);
  await mine(app);
  const funded = await app.vaults.getVault(vault.id);
  expect(funded, 'the deposit confirmed and the vault saw it').toMatchObject({
    state: 'active',
    collateralSats: amount,
  });
  return funded;
}

/** The guardian's own wallet, elsewhere: signs every input and finalizes (the owner's signature is in the file). */
function guardianSendsOwn(psbtBase64: string): { txHex: string; txid: string } {
  const psbt = Psbt.fromBase64(psbtBase64, { network: net.bitcoinjs });
  psbt.signAllInputsHD(rootOf({ seed: guardianSeed }, net));
  return finalizePsbt([psbt.toBase64()], net);
}

function spendRow(id: number): { state: string; txid: string | null } {
  return t().app.db.prepare('SELECT state, txid FROM spends WHERE id = ?').get(id) as {
    state: string;
    txid: string | null;
  };
}

async function contextOf(vaultId: number): Promise<SignContext> {
  const { app } = t();
  const keys = await app.vaults.keySet((await app.vaults.getVault(vaultId)).keySetId);
  return { keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian } };
}

describe('a guardian who signs PSBT files', () => {
  it('holds only the xpub: the key set names it, and the node has no guardian secret', async () => {
    const { app } = t();
    expect(app.signers.guardian.kind).toBe('file');
    expect(keyExpression((await app.vaults.keySet(app.keySetId)).guardian)).toBe(guardianKey);
  });

  it("emergency exit: the owner signs, the spend waits for the guardian's file; Core's wallet signs and finalizes it; importing it sends the coins", async () => {
    const { app } = t();
    const vault = await fundedVault(6_000_000);
    const destination = await app.regtest!.miner.newAddress();

    const result = await app.operations.emergencyExit(vault.id, destination);
    expect(result.state).toBe('awaiting-guardian');
    // Nothing sent: the coins are still the vault's, and no other spend may plan with them.
    await app.sync();
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      collateralSats: 6_000_000,
    });
    expect(await codeOf(() => app.operations.previewClose(vault.id, destination))).toBe(
      'AWAITING_GUARDIAN',
    );
    const [request] = (await app.operations.guardianRequests()).filter(
      (r) => r.spendId === result.spendId,
    );
    expect(request).toMatchObject({
      vaultId: vault.id,
      kind: 'emergency-exit',
      txid: result.txid,
      feeSats: result.plan.feeSats,
    });
    expect(request!.outputs).toEqual([
      { address: destination, amountSats: 6_000_000 - result.plan.feeSats },
    ]);

    // The request survives the spend tracking a restart runs (a draft would be dropped).
    await app.tracker.track();
    expect((await app.operations.guardianRequests()).map((r) => r.spendId)).toContain(
      result.spendId,
    );

    // Exported as a binary file and signed by Bitcoin Core's wallet holding the guardian key,
    // which also finalizes it: the owner's signature was in the exported PSBT.
    const file = join(tmp, `vault-${vault.id}.psbt`);
    await psbtToFile(request!.psbtBase64, file, 'binary');
    const keys = await app.vaults.keySet(vault.keySetId);
    const processPsbt = await coreGuardianWallet(app, guardianSeed, keys, 'guardian-elsewhere');
    const processed = await processPsbt(await psbtFromFile(file), true);
    expect(processed.complete).toBe(true);

    // Files that are not the guardian's signature of this transaction change nothing.
    const other = await app.operations.previewWithdraw(
      (await fundedVault(1_000_000)).id,
      100_000,
      destination,
    );
    const before = logicalHash(app.db);
    const refusal = (psbt: string, spendId = result.spendId) =>
      codeOf(() => app.operations.completeWithGuardian(spendId, psbt));
    expect(await refusal(request!.psbtBase64)).toBe('PSBT_INVALID'); // no guardian signature
    expect(await refusal(other.psbtBase64)).toBe('PSBT_INVALID'); // another transaction
    expect(await refusal('bm90IGEgcHNidA==')).toBe('PSBT_INVALID'); // not a PSBT
    expect(await refusal(processed.psbt, 999_999)).toBe('SPEND_NOT_FOUND');
    expect(logicalHash(app.db)).toBe(before);

    const done = await app.operations.completeWithGuardian(result.spendId, processed.psbt);
    expect(done).toMatchObject({ spendId: result.spendId, txid: result.txid, state: 'broadcast' });
    expect((await app.operations.guardianRequests()).map((r) => r.spendId)).not.toContain(
      result.spendId,
    );
    // Completing twice sends nothing twice.
    expect(await refusal(processed.psbt)).toBe('SPEND_STATE_CHANGED');
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(6_000_000 - result.plan.feeSats);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
  });

  it('settlement: protocol-signed and kept for the guardian; cancelling plans it again; the guardian-signed file settles it and the vault is Liquidated', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const returnAddress = await app.regtest!.miner.newAddress();
    const vault = await fundedVault(50_000_000, returnAddress);
    const bidder = await fundedVault(100_000_000);
    await app.operations.mint(vault.id, 1_250_000); // 180 %
    await app.operations.mint(bidder.id, 2_000_000);
    await setPrice(app, 3_500_000); // 140 %: liquidated
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === vault.id,
    )!;
    const takerAddress = await app.regtest!.miner.newAddress();
    const take = await app.liquidation.take({
      auctionId: auction.id,
      maxSats: 50_000_000,
      maxPriceCents: 9_000_000,
      btcAddress: takerAddress,
    });
    expect(take.auction.state).toBe('settling');

    await app.sync(); // the auction house plans the settlement; the protocol signs it
    const first = (await app.operations.guardianRequests()).find((r) => r.vaultId === vault.id)!;
    expect(first).toMatchObject({ kind: 'settlement' });
    expect(first.outputs[0]).toEqual({ address: takerAddress, amountSats: take.sats });
    expect(await app.liquidation.getAuction(auction.id)).toMatchObject({
      state: 'settling',
      settlementState: 'awaiting-guardian',
      settlementTxid: null,
    });
    await app.sync(); // a second tick plans nothing more while it waits
    expect(
      (await app.operations.guardianRequests()).filter((r) => r.vaultId === vault.id),
    ).toHaveLength(1);

    // Cancelled (say the file was lost): nothing was sent, and the next tick plans it again.
    // A settlement is the auction's: the owner cannot cancel it, only the operator.
    expect(await codeOf(() => app.operations.cancelGuardianRequest(first.spendId))).toBe(
      'ADMIN_ONLY',
    );
    await app.operations.cancelGuardianRequest(first.spendId, { admin: true });
    expect(
      await codeOf(() => app.operations.cancelGuardianRequest(first.spendId, { admin: true })),
    ).toBe('SPEND_STATE_CHANGED');
    await app.sync();
    const second = (await app.operations.guardianRequests()).find((r) => r.vaultId === vault.id)!;
    expect(second.spendId).not.toBe(first.spendId);
    expect(second.outputs).toEqual(first.outputs);

    // The guardian's own wallet signs (partial signature, not finalized); the import completes it.
    const guardianWallet = new SoftwareSigner({
      role: 'guardian',
      network: net,
      secret: { seed: guardianSeed },
    });
    const signed = await guardianWallet.signPsbt(second.psbtBase64, await contextOf(vault.id));
    const done = await app.operations.completeWithGuardian(second.spendId, signed);
    expect(done.state).toBe('broadcast');
    expect(await app.liquidation.getAuction(auction.id)).toMatchObject({
      settlementState: 'broadcast',
      settlementTxid: done.txid,
    });
    await mine(app);
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidated');
    expect((await app.liquidation.getAuction(auction.id)).state).toBe('settled');
    expect(await receivedAt(app, takerAddress)).toBe(take.sats);
    expect(await receivedAt(app, returnAddress)).toBe(50_000_000 - take.sats - done.plan.feeSats);
    await expectLedgerBalanced(app);
  });

  it("the guardian's partial PSBT, and the signed transaction itself (hex, as Electrum copies it), each complete an emergency exit", async () => {
    const { app } = t();
    const destination = await app.regtest!.miner.newAddress();
    const keys = await app.vaults.keySet(app.keySetId);
    const processPsbt = await coreGuardianWallet(app, guardianSeed, keys, 'guardian-formats');
    const exitFor = async (sats: number) => {
      const vault = await fundedVault(sats);
      const result = await app.operations.emergencyExit(vault.id, destination);
      const request = (await app.operations.guardianRequests()).find(
        (r) => r.spendId === result.spendId,
      )!;
      return { vault, result, request };
    };

    // A partial PSBT: the guardian's wallet signs and leaves finalizing to BitStable.
    const partial = await exitFor(2_000_000);
    const signed = await processPsbt(partial.request.psbtBase64, false);
    expect(signed.complete).toBe(false);
    expect(Psbt.fromBase64(signed.psbt).data.inputs[0]!.finalScriptWitness).toBeUndefined();
    expect(
      await app.operations.completeWithGuardian(partial.result.spendId, signed.psbt),
    ).toMatchObject({ txid: partial.result.txid, state: 'broadcast' });

    // The signed network transaction, in hex, with a line break as pasted: matched by its txid.
    const raw = await exitFor(3_000_000);
    const finalized = await processPsbt(raw.request.psbtBase64, true);
    const txHex = Psbt.fromBase64(finalized.psbt).extractTransaction().toHex();
    // Another transaction (the first exit's), or this one stripped of its signatures: refused,
    // nothing changed.
    const before = logicalHash(app.db);
    const refusal = (text: string) =>
      codeOf(() => app.operations.completeWithGuardian(raw.result.spendId, text));
    expect(await refusal(finalizePsbt([signed.psbt], net).txHex)).toBe('PSBT_INVALID');
    const stripped = Psbt.fromBase64(finalized.psbt).extractTransaction();
    stripped.ins.forEach((input) => (input.witness = []));
    expect(await refusal(stripped.toHex())).toBe('PSBT_INVALID');
    expect(logicalHash(app.db)).toBe(before);
    expect(
      await app.operations.completeWithGuardian(
        raw.result.spendId,
        `${txHex.slice(0, 80)}\n${txHex.slice(80)}`,
      ),
    ).toMatchObject({ txid: raw.result.txid, state: 'broadcast' });

    await mine(app);
    expect(await receivedAt(app, destination)).toBe(
      2_000_000 - partial.result.plan.feeSats + (3_000_000 - raw.result.plan.feeSats),
    );
    for (const { vault } of [partial, raw])
      expect(await app.vaults.getVault(vault.id)).toMatchObject({
        state: 'closed',
        collateralSats: 0,
      });
  });

  it('the guardian sends the exit from their own wallet: BitStable sees it on the chain and tracks it', async () => {
    const { app } = t();
    const vault = await fundedVault(4_000_000);
    const destination = await app.regtest!.miner.newAddress();
    const result = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === result.spendId,
    )!;

    // Elsewhere: the guardian's wallet signs, finalizes (the owner's signature is in the file)
    // and broadcasts.
    const { txHex, txid } = guardianSendsOwn(request.psbtBase64);
    await app.chain.broadcast(txHex);

    await app.sync();
    expect((await app.operations.guardianRequests()).map((r) => r.spendId)).not.toContain(
      result.spendId,
    );
    expect(spendRow(result.spendId)).toMatchObject({ state: 'broadcast', txid });
    expect(await codeOf(() => app.operations.cancelGuardianRequest(result.spendId))).toBe(
      'SPEND_STATE_CHANGED',
    );
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(4_000_000 - result.plan.feeSats);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
  });

  it('cancelled, then sent by the guardian anyway: the cancelled request is adopted from the chain', async () => {
    const { app } = t();
    const vault = await fundedVault(3_000_000);
    const destination = await app.regtest!.miner.newAddress();
    const result = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === result.spendId,
    )!;
    await app.operations.cancelGuardianRequest(result.spendId);
    expect(spendRow(result.spendId).state).toBe('cancelled');
    // The owner signed it: the guardian may still send it, so no debt may be drawn on those coins.
    await setPrice(app, 4_500_000);
    expect(await codeOf(async () => await app.operations.mint(vault.id, 10_000))).toBe(
      'EXIT_SIGNED',
    );
    // Another spend of the same coins may be planned (it would void the exit).
    await app.operations.previewClose(vault.id, destination);

    await app.chain.broadcast(guardianSendsOwn(request.psbtBase64).txHex);
    await app.sync();
    expect(spendRow(result.spendId).state).toBe('broadcast');
    await mine(app);
    expect(spendRow(result.spendId).state).toBe('confirmed');
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
  });

  it('needs the guardian on every input; an exit needs no debt, and while it waits no debt can be drawn', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const vault = await app.vaults.createVault({
      keySetId: app.keySetId,
      returnAddress: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
    });
    await faucet(app, vault.address, 30_000_000);
    await faucet(app, vault.address, 20_000_000);
    await mine(app);
    const destination = await app.regtest!.miner.newAddress();
    await app.operations.mint(vault.id, 1_250_000); // 0.5 BTC at 45,000 against 12,500: 180 %
    // While the protocol runs, an exit takes a vault with no debt only.
    const unchanged = logicalHash(app.db);
    expect(await codeOf(() => app.operations.previewEmergencyExit(vault.id, destination))).toBe(
      'DEBT_OUTSTANDING',
    );
    expect(logicalHash(app.db)).toBe(unchanged);
    await app.operations.repay(vault.id, 1_250_000);
    const result = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === result.spendId,
    )!;
    // The guardian sees the debt (none) with the request; no mint can add any while it waits.
    expect(request.debtCents).toBe(0);
    expect(await codeOf(async () => await app.operations.mint(vault.id, 1_000_000))).toBe(
      'AWAITING_GUARDIAN',
    );

    // The guardian signed one of the two inputs only.
    const psbt = Psbt.fromBase64(request.psbtBase64, { network: net.bitcoinjs });
    expect(psbt.inputCount).toBe(2);
    psbt.signInputHD(0, rootOf({ seed: guardianSeed }, net));
    const before = logicalHash(app.db);
    await expect(
      app.operations.completeWithGuardian(result.spendId, psbt.toBase64()),
    ).rejects.toMatchObject({
      code: 'PSBT_INVALID',
      message: expect.stringContaining('1 of the 2'),
    });
    expect(logicalHash(app.db)).toBe(before);
    expect((await app.vaults.getVault(vault.id)).debtCents).toBe(0);
  });

  it('an exit signed before the rules (debt on the vault) that wins against a liquidation: no take is paid for its coins, the auction ends, the debt is booked', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const vault = await fundedVault(20_000_000);
    const destination = await app.regtest!.miner.newAddress();
    const exit = await app.operations.emergencyExit(vault.id, destination);
    // As a database from before migration 6 could hold it: debt drawn while the exit waited.
    await app.store.transaction(async () => {
      await app.store.ledger.post('mint', vault.id, [
        [holderAccount(app.localAccountId), 600_000],
        [`vault:${vault.id}`, -600_000],
      ]);
      await setVaultDebt(app.store, vault.id, 600_000 as Cents, app.params, Date.now());
    });
    const deficitBefore = await badDebtBooked(app);
    await setPrice(app, 4_000_000); // $8,000 against $6,000: 133 %
    expect((await app.vaults.getVault(vault.id)).state).toBe('liquidating');
    const auction = (await app.liquidation.listAuctions({ live: true })).find(
      (a) => a.vaultId === vault.id,
    )!;
    expect(auction.coinsHeld).toBe(true);
    expect(
      await codeOf(
        async () =>
          await app.liquidation.take({
            auctionId: auction.id,
            maxSats: 1_000_000,
            maxPriceCents: 100_000_000,
            btcAddress: destination,
          }),
      ),
    ).toBe('SPEND_IN_FLIGHT');
    // The guardian sends the exit anyway: the coins are the owner's; the debt has no backing.
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === exit.spendId,
    )!;
    await app.chain.broadcast(guardianSendsOwn(request.psbtBase64).txHex);
    await app.sync();
    await mine(app);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({ state: 'closed', debtCents: 0 });
    expect(await app.liquidation.getAuction(auction.id)).toMatchObject({
      state: 'settled',
      soldSats: 0,
      deficitCents: 600_000,
    });
    expect((await badDebtBooked(app)) - deficitBefore).toBe(600_000);
    await expectLedgerBalanced(app);
  });

  it("the guardian's signed transaction handed back while the guardian also sends it and the mempool watch runs, all at once: sent once, one spend, the backing holds", async () => {
    const { app } = t();
    const vault = await fundedVault(1_500_000);
    const destination = await app.regtest!.miner.newAddress();
    const result = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === result.spendId,
    )!;
    const { txHex, txid } = guardianSendsOwn(request.psbtBase64);

    const outcomes = await Promise.allSettled([
      app.chain.broadcast(txHex),
      app.operations.completeWithGuardian(result.spendId, txHex),
      app.tracker.adoptSentByGuardian(),
      app.operations.completeWithGuardian(result.spendId, txHex),
    ]);
    // Each completion either sent it or found it sent; nothing failed otherwise.
    for (const o of outcomes.slice(1)) {
      if (o.status === 'rejected')
        expect((o.reason as { code?: string }).code).toBe('SPEND_STATE_CHANGED');
    }
    expect(spendRow(result.spendId)).toMatchObject({ state: 'broadcast', txid });
    const spends = app.db
      .prepare('SELECT COUNT(*) FROM spends WHERE txid = ?')
      .pluck()
      .get(txid) as number;
    expect(spends).toBe(1);
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(1_500_000 - result.plan.feeSats);
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'closed',
      collateralSats: 0,
    });
    await expectLedgerBalanced(app);
  });

  // Last in this file: it starts the node's background polling, which runs until the node stops.
  it('a transaction the guardian sends from their own wallet is adopted from the mempool, before the next block', async () => {
    const { app } = t();
    const vault = await fundedVault(2_500_000);
    const destination = await app.regtest!.miner.newAddress();
    const result = await app.operations.emergencyExit(vault.id, destination);
    const request = (await app.operations.guardianRequests()).find(
      (r) => r.spendId === result.spendId,
    )!;
    const watched = vi.spyOn(app.tracker, 'adoptSentByGuardian');
    app.startBackground(100);
    // The first poll syncs (and adopts what is there already); the passes between blocks follow.
    await until('a pass between blocks', () => watched.mock.calls.length > 0);
    const height = await app.regtest!.rpc.call<number>('getblockcount');

    const { txHex, txid } = guardianSendsOwn(request.psbtBase64);
    await app.chain.broadcast(txHex);

    await until('the exit is adopted', () => spendRow(result.spendId).state === 'broadcast');
    expect(spendRow(result.spendId)).toMatchObject({ state: 'broadcast', txid });
    // Adopted by a pass between blocks (one in flight as it was sent may be the one).
    await until('the pass that adopted it to return', () =>
      watched.mock.settledResults.some((r) => r.type === 'fulfilled' && r.value > 0),
    );
    expect(await app.regtest!.rpc.call<number>('getblockcount')).toBe(height);
    expect((await app.operations.guardianRequests()).map((r) => r.spendId)).not.toContain(
      result.spendId,
    );
    expect(app.background.current()).toEqual([]);
  });
});

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
