/**
 * The address check the forms run as you type (renderer/src/lib/address.ts), against real
 * addresses of each network: a wrong network is named in words before any review, an address
 * of the app's network passes, and text that is no address says so.
 */
import { describe, expect, it } from 'vitest';
import { addressProblem } from '../../renderer/src/lib/address';

const MAINNET = [
  'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
  '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
  '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy',
];
const TEST = ['tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn'];
const REGTEST = ['bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'];

describe('the address check under a form field', () => {
  it('passes an address of the network the app runs on', () => {
    for (const a of MAINNET) expect(addressProblem(a, 'mainnet'), a).toBeNull();
    for (const a of TEST) expect(addressProblem(a, 'testnet'), a).toBeNull();
    for (const a of TEST) expect(addressProblem(a, 'signet'), a).toBeNull();
    for (const a of REGTEST) expect(addressProblem(a, 'regtest'), a).toBeNull();
  });

  it('names the network of an address from another one', () => {
    expect(addressProblem(MAINNET[0]!, 'regtest')).toBe(
      'That is a mainnet address; BitStable runs on regtest here. Use a regtest address.',
    );
    expect(addressProblem(TEST[0]!, 'mainnet')).toMatch(
      /^That is a testnet or signet address; BitStable runs on mainnet/,
    );
    expect(addressProblem(REGTEST[0]!, 'testnet')).toMatch(/^That is a regtest address/);
  });

  it('says when the text is no address at all, and says nothing while the field is empty', () => {
    expect(addressProblem('hello', 'regtest')).toBe('That does not look like a Bitcoin address.');
    expect(addressProblem('xy1qw508d6qejxtdg4y5r3zarvary0c5xw7k', 'regtest')).toBe(
      'That does not look like a Bitcoin address.',
    );
    expect(addressProblem('  ', 'regtest')).toBeNull();
  });
});

describe('the BTC amount check under a form field', () => {
  it('gives the reason for each amount a form cannot take, and nothing for one it can', async () => {
    const { btcAmountProblem } = await import('../../renderer/src/lib/format');
    expect(btcAmountProblem('0.5')).toBeNull();
    expect(btcAmountProblem('')).toBeNull();
    expect(btcAmountProblem('0.123456789')).toMatch(/at most 8 decimals/);
    expect(btcAmountProblem('0')).toMatch(/more than 0 BTC/);
    expect(btcAmountProblem('21000001')).toBe('No more than 21,000,000 BTC will ever exist.');
    expect(
      btcAmountProblem('2', {
        atMostSats: 150_000_000,
        tooMuch: (max) => `The vault holds ${max} BTC; that is more.`,
      }),
    ).toBe('The vault holds 1.50000000 BTC; that is more.');
  });
});
