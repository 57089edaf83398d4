import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateMnemonic } from 'bip39';
import { afterEach, describe, expect, it } from 'vitest';
import { parseKey } from '../../core/bitcoin/keys';
import { network } from '../../core/config/networks';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import {
  ensureProtocolSeed,
  ensureSoftwareGuardianSeed,
  ensureSoftwareOwnerMnemonic,
  protocolAccount,
  secretNames,
  softwareGuardianAccount,
  softwareOwnerAccount,
} from '../../core/keys/node-keys';
import { PassphraseKeyStore } from '../../core/keys/passphrase-keystore';

const regtest = network('regtest');
const testnet = network('testnet');
const mainnet = network('mainnet');

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('the protocol seed', () => {
  it('is generated on first start per network and kept across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitstable-node-keys-'));
    dirs.push(dir);
    const first = await ensureProtocolSeed(new PassphraseKeyStore(dir, 'pw'), regtest);
    expect(first).toHaveLength(32);
    const restarted = await ensureProtocolSeed(new PassphraseKeyStore(dir, 'pw'), regtest);
    expect(Buffer.from(restarted)).toEqual(Buffer.from(first));
    const onMainnet = await ensureProtocolSeed(new PassphraseKeyStore(dir, 'pw'), mainnet);
    expect(Buffer.from(onMainnet)).not.toEqual(Buffer.from(first));
  });

  it('two concurrent first starts end with one seed', async () => {
    const store = new InMemoryKeyStore();
    const [a, b] = await Promise.all([
      ensureProtocolSeed(store, regtest),
      ensureProtocolSeed(store, regtest),
    ]);
    expect(Buffer.from(a)).toEqual(Buffer.from(b));
  });

  it("gives a BIP48 account key that parses for its network (m/48'/c'/0'/2')", async () => {
    const seed = await ensureProtocolSeed(new InMemoryKeyStore(), regtest);
    const account = protocolAccount(seed, regtest);
    expect(account.path).toBe("m/48'/1'/0'/2'");
    expect(account.fingerprint).toMatch(/^[0-9a-f]{8}$/);
    expect(account.node.isNeutered()).toBe(true);
    expect(parseKey(account, regtest).xpub).toBe(account.xpub);
    const main = protocolAccount(seed, mainnet);
    expect(main.path).toBe("m/48'/0'/0'/2'");
    expect(main.xpub.startsWith('xpub')).toBe(true);
  });
});

describe('software guardian and owner keys', () => {
  it('the guardian seed is kept on regtest and refused on mainnet', async () => {
    const store = new InMemoryKeyStore();
    const seed = await ensureSoftwareGuardianSeed(store, regtest);
    expect(Buffer.from(await ensureSoftwareGuardianSeed(store, regtest))).toEqual(
      Buffer.from(seed),
    );
    expect(softwareGuardianAccount(seed, regtest).xpub.startsWith('tpub')).toBe(true);
    await expect(ensureSoftwareGuardianSeed(store, mainnet)).rejects.toMatchObject({
      code: 'WRONG_NETWORK',
    });
    await expect(ensureSoftwareGuardianSeed(store, testnet)).rejects.toMatchObject({
      code: 'WRONG_NETWORK',
    });
    await ensureSoftwareGuardianSeed(store, testnet, { allowTestNetworks: true });
  });

  it('the owner gets a 24-word mnemonic on regtest, kept, and stored by name', async () => {
    const store = new InMemoryKeyStore();
    const mnemonic = await ensureSoftwareOwnerMnemonic(store, regtest);
    expect(mnemonic.split(' ')).toHaveLength(24);
    expect(validateMnemonic(mnemonic)).toBe(true);
    expect(await ensureSoftwareOwnerMnemonic(store, regtest)).toBe(mnemonic);
    expect(await store.has(secretNames(regtest).ownerMnemonic)).toBe(true);
    expect(softwareOwnerAccount(mnemonic, regtest).path).toBe("m/48'/1'/0'/2'");
  });

  it('the owner mnemonic is refused on mainnet: regtest only, insecure', async () => {
    const store = new InMemoryKeyStore();
    const err = await ensureSoftwareOwnerMnemonic(store, mainnet, {
      allowTestNetworks: true,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'WRONG_NETWORK' });
    expect((err as Error).message).toContain('regtest only');
    expect((err as Error).message).toContain('insecure');
    expect(await store.has(secretNames(mainnet).ownerMnemonic)).toBe(false);
  });
});
