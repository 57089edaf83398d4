import { describe, expect, it } from 'vitest';
import { nodeOptionsFromEnv } from '../../core/app/env-config';
import { codeOfSync } from '../helpers/errors';

const RPC = { BITSTABLE_RPC_URL: 'http://127.0.0.1:8332', BITSTABLE_RPC_COOKIE: '/btc/.cookie' };

/** The sentence of the INVALID_CONFIG `fn` throws (fails the test on anything else). */
function refusal(env: Record<string, string>, network: 'regtest' | 'mainnet' = 'mainnet') {
  try {
    nodeOptionsFromEnv(env, network);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('INVALID_CONFIG');
    return (err as Error).message;
  }
  throw new Error('no refusal');
}

describe('node connections from the environment', () => {
  it('on regtest nothing is needed: a local bitcoind and software keys', () => {
    expect(nodeOptionsFromEnv({}, 'regtest')).toEqual({});
  });

  it('the stability fee: basis points a year, 0 to 10,000; anything else is refused by name', () => {
    expect(nodeOptionsFromEnv({ BITSTABLE_STABILITY_FEE_BPS: '0' }, 'regtest')).toEqual({
      params: { stabilityFeeBps: 0 },
    });
    expect(nodeOptionsFromEnv({ BITSTABLE_STABILITY_FEE_BPS: ' 250 ' }, 'regtest')).toEqual({
      params: { stabilityFeeBps: 250 },
    });
    for (const bad of ['2%', '-1', '10001', '1.5'])
      expect(refusal({ BITSTABLE_STABILITY_FEE_BPS: bad }, 'regtest')).toMatch(
        /^BITSTABLE_STABILITY_FEE_BPS: .* is not a whole number of basis points/,
      );
  });

  it('off regtest: Core over RPC with its cookie, the Ledger over USB, the guardian xpub', () => {
    expect(
      nodeOptionsFromEnv(
        { ...RPC, BITSTABLE_GUARDIAN_KEY: " [deadbeef/48'/0'/0'/2']xpub1 " },
        'mainnet',
      ),
    ).toEqual({
      bitcoin: {
        kind: 'rpc',
        rpc: { url: 'http://127.0.0.1:8332', auth: { kind: 'cookie', cookieFile: '/btc/.cookie' } },
      },
      owner: { kind: 'ledger', transport: { kind: 'hid' } },
      guardian: "[deadbeef/48'/0'/0'/2']xpub1",
    });
  });

  it('user and password, a wallet name, and a fallback node that shares the credentials', () => {
    const options = nodeOptionsFromEnv(
      {
        BITSTABLE_RPC_URL: 'http://10.0.0.2:38332',
        BITSTABLE_RPC_USER: 'alice',
        BITSTABLE_RPC_PASSWORD: 'pw',
        BITSTABLE_RPC_WALLET: 'vaults',
        BITSTABLE_RPC_FALLBACK_URL: 'http://10.0.0.3:38332',
        BITSTABLE_LEDGER: 'speculos:5000@http://127.0.0.1',
      },
      'mainnet',
    );
    const auth = { kind: 'userpass', user: 'alice', password: 'pw' };
    expect(options.bitcoin).toEqual({
      kind: 'rpc',
      rpc: { url: 'http://10.0.0.2:38332', auth },
      walletName: 'vaults',
      fallback: { url: 'http://10.0.0.3:38332', auth },
    });
    expect(options.owner).toEqual({
      kind: 'ledger',
      transport: { kind: 'speculos', apiPort: 5000, baseURL: 'http://127.0.0.1' },
    });
  });

  it('a Ledger on regtest when asked; the software owner key only on regtest', () => {
    expect(nodeOptionsFromEnv({ BITSTABLE_LEDGER: 'hid' }, 'regtest').owner).toEqual({
      kind: 'ledger',
      transport: { kind: 'hid' },
    });
    expect(nodeOptionsFromEnv({ BITSTABLE_LEDGER: 'off' }, 'regtest').owner).toBeUndefined();
    expect(refusal({ ...RPC, BITSTABLE_LEDGER: 'off' })).toContain('the owner');
  });

  it('refuses what cannot work, naming the variable', () => {
    expect(refusal({})).toMatch(/^BITSTABLE_RPC_URL: on mainnet/);
    expect(refusal({ BITSTABLE_RPC_URL: 'http://127.0.0.1:8332' })).toContain('cookie file');
    expect(refusal({ BITSTABLE_RPC_URL: '127.0.0.1:8332', BITSTABLE_RPC_COOKIE: 'c' })).toMatch(
      /not a URL|http/,
    );
    expect(refusal({ ...RPC, BITSTABLE_RPC_URL: 'http://u:p@127.0.0.1:8332' })).toContain(
      'not in the URL',
    );
    expect(refusal({ ...RPC, BITSTABLE_RPC_USER: 'alice' })).toContain('not both');
    expect(
      refusal({ BITSTABLE_RPC_URL: 'http://127.0.0.1:8332', BITSTABLE_RPC_USER: 'alice' }),
    ).toContain('go together');
    expect(refusal({ BITSTABLE_RPC_FALLBACK_URL: 'http://127.0.0.1:8332' }, 'regtest')).toContain(
      'needs BITSTABLE_RPC_URL',
    );
    expect(refusal({ ...RPC, BITSTABLE_LEDGER: 'bluetooth' })).toMatch(/^BITSTABLE_LEDGER:/);
    expect(refusal({ ...RPC, BITSTABLE_LEDGER: 'speculos:99999' })).toMatch(/^BITSTABLE_LEDGER:/);
    expect(codeOfSync(() => nodeOptionsFromEnv({ ...RPC }, 'mainnet'))).toBe('no error');
  });
});
