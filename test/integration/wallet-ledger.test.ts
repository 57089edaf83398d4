/**
 * The owner's Ledger in a wallet connected to a protocol node (issue 12, item 4): the first vault
 * of a key set registers its policy on the device, in the wallet, never at the node.
 *
 * The Ledger is a recording (the Bitcoin Test app 2.4.6 on an emulated Nano S+, ../shared/ledger)
 * replayed byte for byte: no device can run here. The protocol node is real (regtest bitcoind,
 * SQLite), started with the recording's two cosigners as its protocol and guardian keys, so the
 * policy the wallet registers is the one the device registered. Showing an address on the device
 * (`display: true`) and signing a vault's own spend are other exchanges than the recorded ones;
 * they are not replayed here (the unit replay tests cover the signer's side of both).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountKey } from '../../core/accounts/login';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import type { BitStableNode } from '../../core/app/bitstable-node';
import { network } from '../../core/config/networks';
import { LedgerOwnerSigner, policyDescriptor } from '../../core/signers/ledger';
import type { SignerPrompt } from '../../core/signers/types';
import { SqliteRegistrationStore } from '../../core/store/sqlite/device-registrations';
import { SqliteWalletStore } from '../../core/store/sqlite/wallet';
import { inProcessTransport, ProtocolClient } from '../../core/wallet/protocol-client';
import { WalletCore } from '../../core/wallet/wallet';
import { indexOf, loadFlow, replay } from '../fixtures/ledger/recordings';
import { nodeWithRecordedCosigners } from '../helpers/ledger-node';

const net = network('regtest');
const flow = loadFlow('with-nonwitness');
const [deviceKey, protocolKey, guardianKey] = flow.inputs.policy.keys as [string, string, string];
const dirs: string[] = [];
let app: BitStableNode;
let api: ApiService;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bitstable-wallet-ledger-'));
  dirs.push(dataDir);
  app = await nodeWithRecordedCosigners(flow, dataDir);
  api = createApiService({ core: app });
}, 120_000);

afterAll(async () => {
  api?.close();
  await app?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("the owner's Ledger in a wallet connected to a protocol node (a recorded Ledger, replayed)", () => {
  it("registers the policy at the key set's first vault, with all three keys; keeps it in the wallet, not the node; the second vault does not ask again", async () => {
    const ex = flow.exchanges;
    // app, fingerprint, xpub (the owner key the wallet gives the node, remembered from then on),
    // then the registration, which asks app and fingerprint first (the library checks the
    // address inside it) — and nothing after.
    const { transport, store: recording } = await replay([
      ...ex.slice(0, 3),
      ...ex.slice(0, 2),
      ...ex.slice(indexOf(ex, 'e102'), indexOf(ex, 'e103', 1)),
    ]);
    const walletDir = mkdtempSync(join(tmpdir(), 'bitstable-wallet-ledger-w-'));
    dirs.push(walletDir);
    const records = SqliteWalletStore.open(join(walletDir, 'wallet.sqlite'));
    const prompts: SignerPrompt[] = [];
    const owner = new LedgerOwnerSigner({
      transport,
      network: net,
      registrations: new SqliteRegistrationStore(records.db),
      // The name the recording registered (ours would be another, and the replay strict).
      policyName: () => flow.inputs.policy.name,
      onPrompt: (p) => prompts.push(p),
    });
    const alice = accountKey(randomBytes(32)).id;
    await app.accounts.register(alice, 'alice');
    const deviceErrors: unknown[] = [];
    const wallet = new WalletCore({
      nodeUrl: 'in-process',
      network: net,
      store: records,
      client: new ProtocolClient(
        inProcessTransport(api, { roles: ['owner', 'liquidator'], account: alice }),
      ),
      owner,
      onDeviceError: (err) => deviceErrors.push(err),
    });
    try {
      const pins = await wallet.connect();
      expect([pins.protocolKey, pins.guardianKey]).toEqual([protocolKey, guardianKey]);

      const first = await wallet.createVault({ label: 'first' });
      recording.ensureQueueEmpty();
      expect(deviceErrors).toEqual([]);
      expect(first.index).toBe(0);
      // The vault's address is the device's address 0, on regtest's human-readable part.
      expect(first.address.slice('bcrt1q'.length, -6)).toBe(
        flow.result.address0.slice('tb1q'.length, -6),
      );
      // The registration is the device's, kept in the wallet's own records.
      const keys = { owner: deviceKey, protocol: protocolKey, guardian: guardianKey };
      const descriptor = policyDescriptor(flow.keys);
      expect(
        await new SqliteRegistrationStore(records.db).get(flow.result.fingerprint, descriptor),
      ).toMatchObject({ policyId: flow.result.policyId, hmac: flow.result.policyHmac });
      // The owner was shown all three keys, as the device pages them.
      const register = prompts.find((p) => p.code === 'ledger.register' && p.state === 'active');
      for (const k of Object.values(keys)) expect(register?.text).toContain(k);
      expect(prompts.map((p) => `${p.state}:${p.code}`)).toContain('done:ledger.register');
      // The node opened no device and holds no registration.
      expect(app.db.prepare('SELECT COUNT(*) FROM device_registrations').pluck().get()).toBe(0);

      // The second vault of the same key set: registered already, the device is not asked
      // (the recording has no exchange left: any request would fail the replay).
      const second = await wallet.createVault({ label: 'second' });
      expect(second.index).toBe(1);
      expect(deviceErrors).toEqual([]);
      expect(records.vaults(pins.nodeId).map((v) => v.vaultId)).toEqual([first.id, second.id]);
    } finally {
      await owner.close();
      records.close();
    }
  });
});
