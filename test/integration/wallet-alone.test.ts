/**
 * The protocol node is gone and the owner wants out (SPEC §6, issue 12), as real processes: a
 * protocol node whose guardian is an independent key (this test plays the guardian, holding
 * only its own seed), and a wallet host with its own Bitcoin node. Alice opens a vault and mints;
 * the protocol node is SIGKILLed and stays down; her wallet is restarted while it is down and
 * starts from its own records. After the wait, Alice's wallet builds the exit
 * from its own records and its own node, signs it with her owner key, and hands the PSBT to the
 * guardian; the guardian signs; the wallet sends it through its own node. The destination gets
 * every coin less the fee, once, though the completion is handed in twice at once. The node
 * comes back; the wallet reconnects by itself.
 */
import { randomBytes } from 'node:crypto';
import { Psbt } from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyExpression, parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { RpcClient, toSats } from '../../core/node/rpc';
import { softwareGuardianAccount } from '../../core/keys/node-keys';
import { SoftwareSigner } from '../../core/signers/software';
import { scratch, type Child } from '../helpers/process';
import { openActiveVault, rpcCall, until } from '../helpers/rpc';

const net = network('regtest');
const PASSPHRASE = 'alone-test-passphrase';
const guardianSeed = randomBytes(32);
const guardianKey = keyExpression(softwareGuardianAccount(guardianSeed, net));
const files = scratch();
const tmp = files.tmp;

let protocolDir: string;
let node: Child;
let bitcoin: RpcClient;
let wallet: { url: string; token: string };
let walletDir: string;
let aliceHost: Child;
let gatewayUrl: string;
let rpc: { url: string; cookie: string };

/** Starts Alice's wallet host on her data folder; resolves with its first output line of note. */
async function startWallet(): Promise<Child> {
  const c = files.start(
    'headless.ts',
    ['--connect', gatewayUrl, '--data-dir', walletDir, '--port', '0', '--show-link'],
    {
      BITSTABLE_PASSPHRASE: PASSPHRASE,
      BITSTABLE_RPC_URL: rpc.url,
      BITSTABLE_RPC_COOKIE: rpc.cookie,
      BITSTABLE_EXIT_ALONE_AFTER_S: '2',
    },
  );
  const [, url, token] = await c.waitFor(/Open: (http:\/\/\S+)\/#token=([A-Za-z0-9_-]+)/);
  wallet = { url: url!, token: token! };
  return c;
}

const call = (method: string, params: unknown = {}) =>
  rpcCall(wallet.url, wallet.token, method, params);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: { code?: string }) => err.code,
  );

beforeAll(async () => {
  protocolDir = tmp('alone-protocol');
  node = files.start(
    'protocol.ts',
    ['--port', '0', '--data-dir', protocolDir, '--guardian-key', guardianKey],
    { BITSTABLE_PASSPHRASE: PASSPHRASE },
  );
  const [, gateway] = await node.waitFor(/Gateway: (http:\/\/\S+)/);
  const [, rpcUrl, cookie] = await node.waitFor(/Bitcoin RPC: (\S+) cookie=(\S+)/);
  gatewayUrl = gateway!;
  rpc = { url: rpcUrl!, cookie: cookie! };
  bitcoin = new RpcClient({ url: rpcUrl!, auth: { kind: 'cookie', cookieFile: cookie! } });
  walletDir = tmp('alone-wallet');
  aliceHost = await startWallet();
}, 240_000);

afterAll(() => files.cleanup(), 120_000);

describe('an exit without the protocol node', () => {
  it('is refused while the node answers; once it is gone, the wallet and the guardian send every coin to the owner, once', async () => {
    await call('regtest.setPrice', { priceCents: 4_500_000 });
    const returnAddress = (await call('regtest.newAddress')).address as string;
    const vault = await openActiveVault(call, [20_000_000, 5_000_000], { returnAddress });
    await call('vaults.mint', { vaultId: vault.id, amountCents: 500_000 });
    const second = await call('vaults.create', { returnAddress });
    await call('regtest.faucet', { address: second.address, amountSats: 10_000_000 });
    await call('regtest.mine', { blocks: 1 });
    const destination = (await call('regtest.newAddress')).address as string;
    const info = await call('node.info');
    const owner = (await call('status.get')).owner.key as string;

    // While the node answers, the exit goes through it (recorded there), not around it.
    expect((await call('wallet.alone')).nodeReachable).toBe(true);
    expect(await codeOf(call('wallet.exitAlone', { vaultId: vault.id, destination }))).toBe(
      'INVALID_STATE',
    );

    node.child.kill('SIGKILL');
    await new Promise<void>((r) => node.child.once('exit', () => r()));
    await until(
      'the wallet to see the node gone',
      () => call('wallet.alone'),
      (s) => s.nodeReachable === false,
    );
    // Restarted while the node is down: it starts from its own records and says so.
    await aliceHost.stop();
    aliceHost = await startWallet();
    expect(aliceHost.output()).toMatch(/does not answer; this wallet runs from its own records/);
    const down = await call('wallet.alone');
    expect(down.nodeReachable).toBe(false);
    expect(down.vaults).toEqual([
      expect.objectContaining({ vaultId: vault.id, collateralSats: 25_000_000 }),
      expect.objectContaining({ vaultId: second.id, collateralSats: 10_000_000 }),
    ]);
    // The node's own reads now fail plainly; the wallet's own records still answer.
    expect(await codeOf(call('vaults.get', { vaultId: vault.id }))).toBe('NODE_UNREACHABLE');
    const ready = await until(
      'the wait to pass',
      () => call('wallet.alone'),
      (s) => s.ready === true,
    );
    expect(ready.reason).toMatch(/guardian co-sign/);

    // A destination that is not an address changes nothing.
    expect(
      await codeOf(call('wallet.exitAlone', { vaultId: vault.id, destination: 'bcrt1qnope' })),
    ).toBe('INVALID_ADDRESS');
    expect((await call('wallet.alone')).exits).toEqual([]);
    const exit = await call('wallet.exitAlone', { vaultId: vault.id, destination });
    expect(exit).toMatchObject({ vaultId: vault.id, state: 'awaiting-guardian', txid: null });
    expect(exit.amountSats + exit.feeSats).toBe(25_000_000);

    // The guardian, elsewhere, with only their own seed; first a PSBT they did not sign.
    const unsigned = await rpcCall(wallet.url, wallet.token, 'wallet.completeExitAlone', {
      exitId: exit.exitId,
      psbtBase64: exit.psbtBase64,
    }).catch((err: Error & { code: string }) => err);
    expect(unsigned).toMatchObject({ code: 'PSBT_INVALID' });
    expect(unsigned.message).toMatch(/no valid signature from the guardian/);
    const guardianWallet = new SoftwareSigner({
      role: 'guardian',
      network: net,
      secret: { seed: guardianSeed },
    });
    const keys = {
      owner: parseKey(owner, net),
      protocol: parseKey(info.protocolKey, net),
      guardian: parseKey(info.guardianKey, net),
    };
    // Their wallet added the second signature and finalized the inputs (as Core and Sparrow do).
    const finalized = (owned: string, guardianSigned: string) => {
      const p = Psbt.fromBase64(owned, { network: net.bitcoinjs });
      p.combine(Psbt.fromBase64(guardianSigned, { network: net.bitcoinjs }));
      return p.finalizeAllInputs();
    };
    const signed = finalized(
      exit.psbtBase64,
      await guardianWallet.signPsbt(exit.psbtBase64, { keys }),
    ).toBase64();

    // Handed in twice at once: sent once.
    const [a, b] = await Promise.all([
      call('wallet.completeExitAlone', { exitId: exit.exitId, psbtBase64: signed }),
      call('wallet.completeExitAlone', { exitId: exit.exitId, psbtBase64: signed }),
    ]);
    expect(a.state).toBe('broadcast');
    expect(b.txid).toBe(a.txid);
    const miner = (await bitcoin.call<string>('getnewaddress', [], { wallet: 'miner' })) as string;
    await bitcoin.call('generatetoaddress', [1, miner]);
    const tx = await bitcoin.call<{ confirmations: number }>('gettransaction', [a.txid, true], {
      wallet: 'miner',
    });
    expect(tx.confirmations).toBe(1);
    expect(
      toSats(await bitcoin.call('getreceivedbyaddress', [destination, 1], { wallet: 'miner' })),
    ).toBe(exit.amountSats);
    const after = await call('wallet.alone');
    expect(after.exits[0]).toMatchObject({ exitId: exit.exitId, state: 'broadcast', txid: a.txid });
    expect(after.vaults[0]).toMatchObject({ collateralSats: 0, incomingSats: 0 });

    // The second vault: not into one of the wallet's own vaults; one waiting exit at a time.
    expect(
      await codeOf(call('wallet.exitAlone', { vaultId: second.id, destination: vault.address })),
    ).toBe('INVALID_ADDRESS');
    const wrong = await call('wallet.exitAlone', { vaultId: second.id, destination });
    expect(await codeOf(call('wallet.exitAlone', { vaultId: second.id, destination }))).toBe(
      'AWAITING_GUARDIAN',
    );
    expect(await call('wallet.abandonExitAlone', { exitId: wrong.exitId })).toMatchObject({
      state: 'abandoned',
    });
    const elsewhere = await bitcoin.call<string>('getnewaddress', [], { wallet: 'miner' });
    const right = await call('wallet.exitAlone', { vaultId: second.id, destination: elsewhere });
    // The guardian sends it themselves; the wallet sees it on the chain and records it sent.
    const tx2 = finalized(
      right.psbtBase64,
      await guardianWallet.signPsbt(right.psbtBase64, { keys }),
    ).extractTransaction();
    await bitcoin.call('sendrawtransaction', [tx2.toHex()]);
    const seen = await until(
      'the wallet to see the guardian send it',
      () => call('wallet.alone'),
      (st) =>
        st.exits.some(
          (e: { exitId: number; state: string }) =>
            e.exitId === right.exitId && e.state === 'broadcast',
        ),
    );
    expect(seen.exits.find((e: { exitId: number }) => e.exitId === right.exitId).txid).toBe(
      tx2.getId(),
    );
    expect(
      await codeOf(
        call('wallet.completeExitAlone', { exitId: wrong.exitId, psbtBase64: right.psbtBase64 }),
      ),
    ).toBe('SPEND_STATE_CHANGED');

    // The node comes back on the same folder and port; the wallet reconnects by itself.
    node = files.start(
      'protocol.ts',
      [
        '--port',
        new URL(gatewayUrl).port,
        '--data-dir',
        protocolDir,
        '--guardian-key',
        guardianKey,
      ],
      { BITSTABLE_PASSPHRASE: PASSPHRASE },
    );
    await node.waitFor(/Gateway: (http:\/\/\S+)/);
    await until(
      'the wallet to reconnect',
      () => call('wallet.alone'),
      (s) => s.nodeReachable === true,
    );
    expect((await call('vaults.get', { vaultId: vault.id })).id).toBe(vault.id);
  });
});
