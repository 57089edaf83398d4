/**
 * The owner's Ledger in local mode (issue 13, item 3): creating the first vault of the key set
 * registers its policy on the device; later vaults find it registered.
 *
 * The Ledger is a recording (the Bitcoin Test app 2.4.6 on an emulated Nano S+, ../shared/ledger)
 * replayed byte for byte: no device can run here. The node is real (regtest bitcoind, SQLite),
 * started with the recording's two cosigners as its protocol and guardian keys, so the policy it
 * registers is the one the device registered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import type { BitStableNode } from '../../core/app/bitstable-node';
import { network } from '../../core/config/networks';
import {
  LedgerOwnerSigner,
  MemoryRegistrationStore,
  policyDescriptor,
} from '../../core/signers/ledger';
import type { SignerPrompt } from '../../core/signers/types';
import { indexOf, loadFlow, replay } from '../fixtures/ledger/recordings';
import { nodeWithRecordedCosigners } from '../helpers/ledger-node';

const net = network('regtest');
const flow = loadFlow('with-nonwitness');
const prompts: SignerPrompt[] = [];
const registrations = new MemoryRegistrationStore();
let recording: Awaited<ReturnType<typeof replay>>['store'];
let owner: LedgerOwnerSigner;
let app: BitStableNode;
let api: ApiService;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'bitstable-local-ledger-'));
  const ex = flow.exchanges;
  // app, fingerprint, xpub (the owner key of the node's key set, at start, remembered from then
  // on), then the registration, which asks app and fingerprint first (the library checks the
  // address inside it) — and nothing after.
  const replayed = await replay([
    ...ex.slice(0, 3),
    ...ex.slice(0, 2),
    ...ex.slice(indexOf(ex, 'e102'), indexOf(ex, 'e103', 1)),
  ]);
  recording = replayed.store;
  owner = new LedgerOwnerSigner({
    transport: replayed.transport,
    network: net,
    registrations,
    // The name the recording registered (ours would be another, and the replay is strict).
    policyName: () => flow.inputs.policy.name,
    onPrompt: (p) => prompts.push(p),
  });
  app = await nodeWithRecordedCosigners(flow, dataDir, owner);
  api = createApiService({ core: app });
}, 120_000);

afterAll(async () => {
  api?.close();
  await app?.stop();
  await owner?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the owner's Ledger in local mode (a recorded Ledger, replayed)", () => {
  it("registers the policy when the key set's first vault is made, with all three keys; the second vault does not ask again", async () => {
    const create = (label: string) =>
      api.dispatch('vaults.create', { label }, { roles: ['admin'] });
    const first = await create('first');
    expect(first).toMatchObject({ ok: true, result: { index: 0 } });
    recording.ensureQueueEmpty();
    expect(
      await registrations.get(flow.result.fingerprint, policyDescriptor(flow.keys)),
    ).toMatchObject({ policyId: flow.result.policyId, hmac: flow.result.policyHmac });
    const register = prompts.find((p) => p.code === 'ledger.register' && p.state === 'active');
    for (const k of flow.inputs.policy.keys) expect(register?.text).toContain(k);
    expect(prompts.some((p) => p.state === 'failed')).toBe(false);

    // The recording has no exchange left: any request to the device would fail the replay,
    // and show as a failed prompt.
    const second = await create('second');
    expect(second).toMatchObject({ ok: true, result: { index: 1 } });
    expect(prompts.some((p) => p.state === 'failed')).toBe(false);
  });
});
