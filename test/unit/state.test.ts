import { describe, expect, it } from 'vitest';
import { network } from '../../core/config/networks';
import { nextState, nextStateOutsideHealthPass, type VaultState } from '../../core/vaults/state';
import type { Cents, Sats } from '../../core/money';

const params = network('regtest').defaults;
const BTC = 100_000_000;

// [description, current, collateral sats, debt cents, fresh price (cents/BTC) or null, expected]
const table: [string, VaultState, number, number, number | null, VaultState][] = [
  ['a deposit confirms: Pending → Active', 'pending', 10_000_000, 0, 4_500_000, 'active'],
  [
    'a deposit confirms while the oracle is stale: still Active (no debt, no ratio)',
    'pending',
    10_000_000,
    0,
    null,
    'active',
  ],
  ['nothing confirmed yet: stays Pending', 'pending', 0, 0, 4_500_000, 'pending'],
  ['a reorg removes the only deposit: Active → Pending', 'active', 0, 0, 4_500_000, 'pending'],
  ['no debt is never liquidated, whatever the price', 'active', 1, 0, 1, 'active'],
  ['180 % stays Active', 'active', BTC, 2_500_000, 4_500_000, 'active'],
  ['exactly 160 % is Active', 'active', BTC, 2_500_000, 4_000_000, 'active'],
  ['one cent under 160 % is Warning', 'active', BTC, 2_500_000, 3_999_999, 'warning'],
  ['exactly 150 % is Warning, not Liquidating', 'active', BTC, 2_500_000, 3_750_000, 'warning'],
  ['140 % at a fresh price: Liquidating', 'warning', BTC, 2_500_000, 3_500_000, 'liquidating'],
  [
    '140 % from Active jumps straight to Liquidating',
    'active',
    BTC,
    2_500_000,
    3_500_000,
    'liquidating',
  ],
  [
    'Warning recovers to Active when the price recovers',
    'warning',
    BTC,
    2_500_000,
    4_500_000,
    'active',
  ],
  ['a stale price liquidates nothing', 'warning', BTC, 2_500_000, null, 'warning'],
  ['a stale price clears no warning either', 'warning', BTC, 1, null, 'warning'],
  [
    'Liquidating ends only by settlement, even if the price recovers',
    'liquidating',
    BTC,
    2_500_000,
    9_000_000,
    'liquidating',
  ],
  ['Liquidated is final', 'liquidated', 0, 0, 4_500_000, 'liquidated'],
  ['Closed is final even if coins arrive later', 'closed', 5_000, 0, 4_500_000, 'closed'],
];

describe('vault state machine (SPEC §6)', () => {
  for (const [description, current, c, d, p, expected] of table) {
    it(description, () => {
      expect(
        nextState(
          current,
          { collateralSats: c as Sats, debtCents: d as Cents, freshPriceCents: p as Cents | null },
          params,
        ),
      ).toBe(expected);
    });
  }
});

describe('state changes outside the health pass', () => {
  it('never start a liquidation: a vault that would cross waits in Warning for the health pass', () => {
    const facts = {
      collateralSats: BTC as Sats,
      debtCents: 2_500_000 as Cents,
      freshPriceCents: 3_500_000 as Cents,
    };
    expect(nextState('active', facts, params)).toBe('liquidating');
    expect(nextStateOutsideHealthPass('active', facts, params)).toBe('warning');
    expect(nextStateOutsideHealthPass('liquidating', facts, params)).toBe('liquidating');
  });
});
