/**
 * The owner's key on the owner's machine (SPEC §4), on a real regtest chain: a wallet core with
 * its own software owner key, its own records and its own view of the chain, against a real
 * protocol node in this process. The node drafts; the wallet checks and signs; the node checks
 * the owner's signature and co-signs. Then a LYING NODE — a test double in front of the real one
 * that rewrites its answers — swaps the protocol key, gives a wrong address, changes an output,
 * raises the fee, adds a coin that is not the vault's: each time the wallet refuses with a typed
 * code, signs nothing and stores nothing as signed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMnemonic } from 'bip39';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountKey } from '../../core/accounts/login';
import { SESSION_ROLES } from '../../core/api/contract';
import { createApiService, type ApiService } from '../../core/api/dispatcher';
import { keyExpression } from '../../core/bitcoin/keys';
import { network as networkInfo } from '../../core/config/networks';
import { rootOf } from '../../core/keys/software-key';
import { SoftwareSigner } from '../../core/signers/software';
import {
  inProcessTransport,
  ProtocolClient,
  type ProtocolTransport,
} from '../../core/wallet/protocol-client';
import { SqliteWalletStore } from '../../core/store/sqlite/wallet';
import { WalletCore } from '../../core/wallet/wallet';
import { codeOf } from '../helpers/errors';
import { faucet, mine, receivedAt, setPrice, useBitStableNode } from '../helpers/app';
import { randomBytes } from 'node:crypto';

const net = networkInfo('regtest');
/** The node is in this process; its keys are pinned under this address. */
const NODE_URL = 'in-process';
const t = useBitStableNode();
const dir = mkdtempSync(join(tmpdir(), 'bitstable-wallet-'));
const mnemonic = generateMnemonic(256);
const owner = new SoftwareSigner({ role: 'owner', network: net, secret: { mnemonic } });
const account = accountKey(randomBytes(32));
let api: ApiService;
let store: SqliteWalletStore;

/** What the double may rewrite: a method's result on its way to the wallet. */
type Lie = (method: string, result: unknown) => unknown;
let lie: Lie | null = null;

/** A transport to the real node, with `lie` rewriting answers when set (the lying node). */
function lyingTransport(real: ProtocolTransport): ProtocolTransport {
  return {
    ...real,
    async call(method, params) {
      const result = await real.call(method, params);
      return lie ? lie(method, structuredClone(result)) : result;
    },
  };
}

function wallet(): WalletCore {
  const { app } = t();
  const real = inProcessTransport(api, { roles: SESSION_ROLES, account: account.id });
  return new WalletCore({
    nodeUrl: NODE_URL,
    network: net,
    store,
    client: new ProtocolClient(lyingTransport(real)),
    owner,
    bitcoin: { rpc: app.regtest!.rpc, feeRateSatPerKvB: () => app.chain.feeRateSatPerKvB() },
  });
}

beforeAll(async () => {
  const { app } = t();
  await app.accounts.register(account.id, 'alice');
  api = createApiService({ core: app });
  store = SqliteWalletStore.open(join(dir, 'wallet.sqlite'));
});
afterAll(() => {
  store?.close();
  api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A vault of the wallet's, funded and confirmed. */
async function fundedVault(w: WalletCore, sats: number) {
  const { app } = t();
  const vault = await w.createVault({ returnAddress: await app.regtest!.miner.newAddress() });
  await faucet(app, vault.address, sats);
  await mine(app);
  return vault;
}

/** A PSBT rebuilt with other outputs and/or one more input (what a lying node would hand out). */
function rewrite(
  psbtBase64: string,
  change: {
    outputs?: (
      outs: { script: Uint8Array; value: bigint }[],
    ) => { script: Uint8Array; value: bigint }[];
    extraInput?: { psbt: string; index: number };
  },
): string {
  const from = Psbt.fromBase64(psbtBase64, { network: net.bitcoinjs });
  const to = new Psbt({ network: net.bitcoinjs });
  to.setVersion(from.version);
  to.setLocktime(from.locktime);
  const copyInput = (src: Psbt, i: number) => {
    const tx = src.txInputs[i]!;
    const d = src.data.inputs[i]!;
    to.addInput({
      hash: tx.hash,
      index: tx.index,
      sequence: tx.sequence,
      witnessUtxo: d.witnessUtxo,
      witnessScript: d.witnessScript,
      bip32Derivation: d.bip32Derivation,
      ...(d.nonWitnessUtxo ? { nonWitnessUtxo: d.nonWitnessUtxo } : {}),
    });
  };
  from.txInputs.forEach((_, i) => copyInput(from, i));
  if (change.extraInput) {
    copyInput(
      Psbt.fromBase64(change.extraInput.psbt, { network: net.bitcoinjs }),
      change.extraInput.index,
    );
  }
  const outs = from.txOutputs.map((o) => ({ script: o.script, value: BigInt(o.value) }));
  for (const o of change.outputs ? change.outputs(outs) : outs) to.addOutput(o);
  return to.toBase64();
}

const spendState = (id: number) =>
  t().app.db.prepare('SELECT state FROM spends WHERE id = ?').pluck().get(id) as string;

describe("the owner's key on the owner's machine", () => {
  it("creates a vault on the wallet's own key, checks its address, and withdraws: the wallet signs, the node co-signs", async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const w = wallet();
    const pins = await w.connect();
    expect(pins.protocolKey).toBe(keyExpression((await app.vaults.keySet(app.keySetId)).protocol));
    const vault = await fundedVault(w, 20_000_000);
    expect(vault.descriptor).toContain(await w.ownerKey());
    expect(await app.vaults.getVault(vault.id)).toMatchObject({
      state: 'active',
      accountId: account.id,
    });
    // The kit, from the wallet's own records: its key set with the vault it just made.
    const [set] = (await w.recoveryKit()).keySets;
    expect(set!.keys.owner).toBe(await w.ownerKey());
    expect(set!.vaults).toContainEqual({ index: vault.index, address: vault.address, label: null });

    // bsUSD against it, through the protocol API as the wallet's account.
    const client = new ProtocolClient(
      inProcessTransport(api, { roles: SESSION_ROLES, account: account.id }),
    );
    await client.call('vaults.mint', { vaultId: vault.id, amountCents: 100_000 });

    // The node cannot sign for this vault: the owner key is not there.
    const review = await client.call('vaults.previewWithdraw', {
      vaultId: vault.id,
      amountSats: 1_000_000,
      destination: await app.regtest!.miner.newAddress(),
    });
    expect(
      await codeOf(() =>
        client.call('vaults.withdraw', { vaultId: vault.id, spendId: review.spendId }),
      ),
    ).toBe('SIGNER_REFUSED');

    const destination = await app.regtest!.miner.newAddress();
    const preview = await w.preview('withdraw', vault.id, destination, 2_000_000);
    const sent = await w.sign(vault.id, preview.spendId);
    expect(sent).toMatchObject({ spendId: preview.spendId, state: 'broadcast' });
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(2_000_000);
    expect((await app.vaults.getVault(vault.id)).collateralSats).toBe(
      20_000_000 - 2_000_000 - preview.feeSats,
    );
    expect(
      store.db.prepare('SELECT outcome, txid FROM signed WHERE spend_id = ?').get(preview.spendId),
    ).toEqual({ outcome: 'accepted', txid: sent.txid });
  });

  it("the protocol node's files hold no owner secret: not the mnemonic, not the seed, not the xprv", () => {
    const { dataDir } = t();
    const root = rootOf({ mnemonic }, net);
    const secrets = [
      mnemonic,
      mnemonic.split(' ').slice(0, 4).join(' '),
      root.toBase58(),
      root.derivePath("m/48'/1'/0'/2'").toBase58(),
      Buffer.from(root.privateKey!).toString('hex'),
    ];
    const files: string[] = [];
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const p = join(d, name);
        const s = statSync(p);
        if (s.isDirectory()) walk(p);
        else if (s.size < 200_000_000) files.push(p);
      }
    };
    walk(dataDir);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const content = readFileSync(f);
      for (const secret of secrets) expect(content.includes(secret), `${f}`).toBe(false);
    }
  });
});

describe("the wallet's own view of its vaults", () => {
  it('its own node watches each vault it creates; a node that claims other coins is caught', async () => {
    const { app } = t();
    const { CoreNode } = await import('../../core/node/bitcoin-node');
    const watch = new CoreNode(app.regtest!.rpc, 'bitstable-wallet-test', 2_000);
    await watch.ensureWatchWallet();
    const real = inProcessTransport(api, { roles: SESSION_ROLES, account: account.id });
    const w = new WalletCore({
      nodeUrl: NODE_URL,
      network: net,
      store,
      client: new ProtocolClient(real),
      owner,
      bitcoin: {
        rpc: app.regtest!.rpc,
        feeRateSatPerKvB: () => app.chain.feeRateSatPerKvB(),
        watch,
        confirmations: 1,
      },
    });
    await w.connect();
    const vault = await fundedVault(w, 7_000_000);
    const seen = await app.vaults.getVault(vault.id);
    expect(await w.ownView({ ...seen, id: vault.id })).toMatchObject({
      collateralSats: 7_000_000,
      incomingSats: 0,
      agrees: true,
    });
    // The protocol node says the vault holds more than the chain does.
    expect(
      await w.ownView({ ...seen, id: vault.id, collateralSats: seen.collateralSats + 1_000_000 }),
    ).toMatchObject({ collateralSats: 7_000_000, agrees: false });
  });
});

describe('a lying protocol node (a double in front of a real one)', () => {
  const before = () => ({ signed: store.signedCount(t().app.accounts.nodeId) });

  it('swaps the protocol key: the wallet refuses the node (NODE_KEYS_CHANGED)', async () => {
    const other = new SoftwareSigner({
      role: 'protocol',
      network: net,
      secret: { seed: randomBytes(32) },
    });
    const swapped = keyExpression(await other.accountKey());
    lie = (method, result) =>
      method === 'node.info' ? { ...(result as object), protocolKey: swapped } : result;
    try {
      expect(await codeOf(() => wallet().connect())).toBe('NODE_KEYS_CHANGED');
    } finally {
      lie = null;
    }
    expect(store.pinned(NODE_URL)!.protocolKey).not.toBe(swapped);
  });

  it('answers as another node id with other keys at the same address: refused, not pinned afresh', async () => {
    const other = new SoftwareSigner({
      role: 'protocol',
      network: net,
      secret: { seed: randomBytes(32) },
    });
    const swapped = keyExpression(await other.accountKey());
    lie = (method, result) =>
      method === 'node.info'
        ? { ...(result as object), nodeId: 'bsn-regtest-evil', protocolKey: swapped }
        : result;
    try {
      expect(await codeOf(() => wallet().connect())).toBe('NODE_KEYS_CHANGED');
    } finally {
      lie = null;
    }
    expect(store.pinned(NODE_URL)!.protocolKey).not.toBe(swapped);
  });

  it('gives an address that does not match the descriptor: ADDRESS_MISMATCH, and nothing is recorded', async () => {
    const { app } = t();
    const w = wallet();
    await w.connect();
    const known = store.vaults(app.accounts.nodeId).length;
    const elsewhere = await app.regtest!.miner.newAddress();
    lie = (method, result) =>
      method === 'vaults.create' ? { ...(result as object), address: elsewhere } : result;
    try {
      expect(await codeOf(() => w.createVault({}))).toBe('ADDRESS_MISMATCH');
    } finally {
      lie = null;
    }
    expect(store.vaults(app.accounts.nodeId)).toHaveLength(known);
  });

  it("gives an index and address one of the wallet's vaults already uses: refused, nothing recorded", async () => {
    const { app } = t();
    const w = wallet();
    await w.connect();
    const [first] = store.vaults(app.accounts.nodeId);
    const known = store.vaults(app.accounts.nodeId).length;
    lie = (method, result) =>
      method === 'vaults.create'
        ? {
            ...(result as object),
            index: first!.index,
            address: first!.address,
            descriptor: first!.descriptor,
          }
        : result;
    try {
      expect(await codeOf(() => w.createVault({}))).toBe('ADDRESS_MISMATCH');
    } finally {
      lie = null;
    }
    expect(store.vaults(app.accounts.nodeId)).toHaveLength(known);
  });

  it('a wallet without a Bitcoin node of its own still refuses a fee the node states but no one would pay', async () => {
    const { app } = t();
    const real = inProcessTransport(api, { roles: SESSION_ROLES, account: account.id });
    const blind = new WalletCore({
      nodeUrl: NODE_URL,
      network: net,
      store,
      client: new ProtocolClient(lyingTransport(real)),
      owner,
    });
    await blind.connect();
    const vault = await fundedVault(blind, 5_000_000);
    const vaultScript = Buffer.from(
      (await import('../../core/psbt/fees')).outputScript(vault.address, net),
    );
    const { signed } = { signed: store.signedCount(app.accounts.nodeId) };
    lie = (m, r) => {
      if (m !== 'vaults.previewWithdraw') return r;
      const p = r as { psbtBase64: string; feeSats: number };
      p.psbtBase64 = rewrite(p.psbtBase64, {
        outputs: (outs) =>
          outs.map((o) =>
            vaultScript.equals(Buffer.from(o.script)) ? { ...o, value: o.value - 900_000n } : o,
          ),
      });
      p.feeSats += 900_000;
      return p;
    };
    let spendId: number;
    try {
      spendId = (
        await blind.preview('withdraw', vault.id, await app.regtest!.miner.newAddress(), 1_000_000)
      ).spendId;
    } finally {
      lie = null;
    }
    expect(await codeOf(() => blind.sign(vault.id, spendId))).toBe('PSBT_FEE_TOO_HIGH');
    expect(store.signedCount(app.accounts.nodeId)).toBe(signed);
  });

  it('changes an output, raises the fee (alone and with the review), adds a coin that is not the vault’s: each refused, nothing signed', async () => {
    const { app } = t();
    const w = wallet();
    await w.connect();
    const vault = await fundedVault(w, 10_000_000);
    const other = await fundedVault(w, 5_000_000); // the owner's other vault: its coin must not be spent
    const otherPreview = await w.preview('close', other.id, await app.regtest!.miner.newAddress());
    const destination = await app.regtest!.miner.newAddress();
    const thief = Buffer.from(
      (await import('../../core/psbt/fees')).outputScript(
        await app.regtest!.miner.newAddress(),
        net,
      ),
    );
    const vaultScript = Buffer.from(
      (await import('../../core/psbt/fees')).outputScript(vault.address, net),
    );

    const cases: { what: string; code: string; lie: Lie }[] = [
      {
        what: 'an output paid elsewhere',
        code: 'PSBT_OUTPUTS_CHANGED',
        lie: (m, r) => {
          if (m !== 'vaults.previewWithdraw') return r;
          const p = r as { psbtBase64: string };
          p.psbtBase64 = rewrite(p.psbtBase64, {
            outputs: (outs) =>
              outs.map((o) =>
                vaultScript.equals(Buffer.from(o.script)) ? o : { ...o, script: thief },
              ),
          });
          return p;
        },
      },
      {
        what: 'a fee raised in the PSBT only',
        code: 'PSBT_FEE_TOO_HIGH',
        lie: (m, r) => {
          if (m !== 'vaults.previewWithdraw') return r;
          const p = r as { psbtBase64: string };
          p.psbtBase64 = rewrite(p.psbtBase64, {
            outputs: (outs) =>
              outs.map((o) =>
                vaultScript.equals(Buffer.from(o.script)) ? { ...o, value: o.value - 50_000n } : o,
              ),
          });
          return p;
        },
      },
      {
        what: 'a fee raised in the PSBT and the review alike',
        code: 'PSBT_FEE_TOO_HIGH',
        lie: (m, r) => {
          if (m !== 'vaults.previewWithdraw') return r;
          const p = r as { psbtBase64: string; feeSats: number };
          p.psbtBase64 = rewrite(p.psbtBase64, {
            outputs: (outs) =>
              outs.map((o) =>
                vaultScript.equals(Buffer.from(o.script)) ? { ...o, value: o.value - 50_000n } : o,
              ),
          });
          p.feeSats += 50_000;
          return p;
        },
      },
      {
        what: "another vault's coin added",
        code: 'PSBT_FOREIGN_INPUT',
        lie: (m, r) => {
          if (m !== 'vaults.previewWithdraw') return r;
          const p = r as { psbtBase64: string };
          p.psbtBase64 = rewrite(p.psbtBase64, {
            extraInput: { psbt: otherPreview.psbtBase64, index: 0 },
          });
          return p;
        },
      },
    ];
    for (const c of cases) {
      const { signed } = before();
      lie = c.lie;
      let spendId: number;
      try {
        spendId = (await w.preview('withdraw', vault.id, destination, 1_000_000)).spendId;
      } finally {
        lie = null;
      }
      expect(await codeOf(() => w.sign(vault.id, spendId)), c.what).toBe(c.code);
      expect(before().signed, c.what).toBe(signed);
      expect(spendState(spendId), c.what).toBe('draft'); // the node signed nothing either
    }
    // The honest review still goes through.
    const honest = await w.preview('withdraw', vault.id, destination, 1_000_000);
    expect((await w.sign(vault.id, honest.spendId)).state).toBe('broadcast');
  });

  it('the node refuses an owner signature that is not of its draft, and one from another key', async () => {
    const { app } = t();
    const w = wallet();
    await w.connect();
    const vault = await fundedVault(w, 3_000_000);
    const client = new ProtocolClient(
      inProcessTransport(api, { roles: SESSION_ROLES, account: account.id }),
    );
    const destination = await app.regtest!.miner.newAddress();
    const preview = await client.call('vaults.previewClose', { vaultId: vault.id, destination });
    const stranger = new SoftwareSigner({
      role: 'owner',
      network: net,
      secret: { mnemonic: generateMnemonic(256) },
    });
    const keys = await app.vaults.keySet((await app.vaults.getVault(vault.id)).keySetId);
    const submit = (psbtBase64: string) =>
      codeOf(() =>
        client.call('vaults.submitSigned', {
          vaultId: vault.id,
          spendId: preview.spendId,
          psbtBase64,
        }),
      );
    // Unsigned; signed by a key that is not the vault's owner; not a PSBT.
    expect(await submit(preview.psbtBase64)).toBe('PSBT_INVALID');
    const strangerSigned = await stranger
      .signPsbt(preview.psbtBase64, {
        keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
      })
      .catch(() => preview.psbtBase64);
    expect(await submit(strangerSigned)).toBe('PSBT_INVALID');
    expect(await submit('bm90IGEgcHNidA==')).toBe('PSBT_INVALID');
    // Signed by the owner over a coin amount the node never stored: valid against the submitted
    // PSBT's own fields, not against the stored draft's — refused before the protocol signs.
    const lied = Psbt.fromBase64(preview.psbtBase64, { network: net.bitcoinjs });
    const utxo = lied.data.inputs[0]!.witnessUtxo!;
    lied.data.inputs[0]!.witnessUtxo = { script: utxo.script, value: utxo.value + 1n };
    delete lied.data.inputs[0]!.nonWitnessUtxo; // which would give the lie away to the signer
    const liedSigned = await owner.signPsbt(lied.toBase64(), {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
    });
    expect(await submit(liedSigned)).toBe('PSBT_INVALID');
    expect(spendState(preview.spendId)).toBe('draft');
  });
});

describe('an owner-signed PSBT against everything else on the vault at once', () => {
  it('the same signature handed back twice, a mint and another review in one go: sent once, the rest refused, the backing holds', async () => {
    const { app } = t();
    await setPrice(app, 4_500_000);
    const w = wallet();
    await w.connect();
    const vault = await fundedVault(w, 20_000_000);
    const client = new ProtocolClient(
      inProcessTransport(api, { roles: SESSION_ROLES, account: account.id }),
    );
    await client.call('vaults.mint', { vaultId: vault.id, amountCents: 500_000 });
    const destination = await app.regtest!.miner.newAddress();
    const preview = await client.call('vaults.previewWithdraw', {
      vaultId: vault.id,
      amountSats: 3_000_000,
      destination,
    });
    const keys = await app.vaults.keySet((await app.vaults.getVault(vault.id)).keySetId);
    const signed = await owner.signPsbt(preview.psbtBase64, {
      keys: { owner: keys.owner, protocol: keys.protocol, guardian: keys.guardian },
    });
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (err: { code?: string }) => err.code ?? 'no code',
      );
    const submit = () =>
      outcome(
        client.call('vaults.submitSigned', {
          vaultId: vault.id,
          spendId: preview.spendId,
          psbtBase64: signed,
        }),
      );
    const results = await Promise.all([
      submit(),
      submit(),
      outcome(client.call('vaults.mint', { vaultId: vault.id, amountCents: 900_000 })),
      outcome(client.call('vaults.previewClose', { vaultId: vault.id, destination })),
    ]);
    expect(results.slice(0, 2).sort()).toEqual(['SPEND_STATE_CHANGED', 'ok']);
    expect(results[2]).toBe('SPEND_IN_FLIGHT'); // no debt drawn against coins on their way out
    expect(['SPEND_IN_FLIGHT', 'DEBT_OUTSTANDING']).toContain(results[3]);
    await mine(app);
    expect(await receivedAt(app, destination)).toBe(3_000_000); // once
    const after = await app.vaults.getVault(vault.id);
    expect(after).toMatchObject({
      debtCents: 500_000,
      collateralSats: 20_000_000 - 3_000_000 - preview.feeSats,
    });
    expect((await app.store.ledger.checkInvariant()).problems).toEqual([]);
  });
});
