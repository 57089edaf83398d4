/**
 * The CSV exports (renderer/src/lib/csv.ts): RFC 4180 quoting, amounts written exactly from
 * integer sats and cents, UTC dates, every page of a paged list.
 */
import { describe, expect, it } from 'vitest';
import {
  allPages,
  centsDecimal,
  csvField,
  csvText,
  decimal,
  exportName,
  isoUtc,
  satsDecimal,
  statementCsv,
  textCell,
  vaultHistoryCsv,
} from '../../renderer/src/lib/csv';

describe('RFC 4180 fields', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['Alice, savings', '"Alice, savings"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf', '"cr\rlf"'],
    ['semi;colon and spaces ', 'semi;colon and spaces '],
    ['Zürich €', 'Zürich €'],
  ])('%j is written %j', (value, written) => {
    expect(csvField(value)).toBe(written);
  });

  it('writes null as an empty field and numbers as they are', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
  });

  it('ends every record with CRLF, the last one too', () => {
    expect(
      csvText(
        ['a', 'b'],
        [
          ['1', 'x,y'],
          [null, '2'],
        ],
      ),
    ).toBe('a,b\r\n1,"x,y"\r\n,2\r\n');
    expect(csvText(['only'], [])).toBe('only\r\n');
  });

  it('keeps typed text from being run as a spreadsheet formula', () => {
    expect(textCell('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    expect(textCell('+1')).toBe("'+1");
    expect(textCell('-5')).toBe("'-5");
    expect(textCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(textCell('Alice, savings')).toBe('Alice, savings');
    expect(textCell(null)).toBeNull();
  });
});

describe('amounts from integers', () => {
  it.each([
    [0, '0.00'],
    [1, '0.01'],
    [99, '0.99'],
    [100, '1.00'],
    [123_456, '1234.56'],
    [-1, '-0.01'],
    [-123_456, '-1234.56'],
    // The largest whole number a double holds exactly, and every digit kept.
    [Number.MAX_SAFE_INTEGER, '90071992547409.91'],
    [-Number.MAX_SAFE_INTEGER, '-90071992547409.91'],
  ])('%d cents is %s', (cents, text) => {
    expect(centsDecimal(cents)).toBe(text);
  });

  it.each([
    [0, '0.00000000'],
    [1, '0.00000001'],
    [100_000, '0.00100000'],
    [29_000_000, '0.29000000'],
    [100_000_001, '1.00000001'],
    [-546, '-0.00000546'],
    [-250_000_000, '-2.50000000'],
    // All 21 million bitcoin.
    [2_100_000_000_000_000, '21000000.00000000'],
  ])('%d sats is %s BTC', (sats, text) => {
    expect(satsDecimal(sats)).toBe(text);
  });

  it('takes bigints beyond a double, and no places', () => {
    expect(decimal(123_456_789_012_345_678_901n, 8)).toBe('1234567890123.45678901');
    expect(decimal(-42, 0)).toBe('-42');
  });

  it('refuses an amount that is not whole', () => {
    expect(() => decimal(0.1, 2)).toThrow(RangeError);
    expect(() => decimal(Number.NaN, 8)).toThrow(RangeError);
  });
});

describe('dates and names', () => {
  it('writes dates in ISO 8601 UTC', () => {
    expect(isoUtc(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(isoUtc(Date.UTC(2025, 2, 1, 14, 5, 9, 123))).toBe('2025-03-01T14:05:09.123Z');
  });

  it('names the file by what, and network', () => {
    expect(exportName('vault-12-history', 'regtest')).toBe(
      'bitstable-vault-12-history-regtest.csv',
    );
    expect(exportName('bsusd statement', 'mainnet')).toBe('bitstable-bsusd-statement-mainnet.csv');
  });
});

describe('every page', () => {
  const list = (n: number) => Array.from({ length: n }, (_, i) => n - i);
  const pager = (rows: () => number[], calls: [number, number][] = []) => {
    return async (offset: number, limit: number) => {
      calls.push([offset, limit]);
      const all = rows();
      return { total: all.length, items: all.slice(offset, offset + limit) };
    };
  };

  it('reads page after page until the total', async () => {
    const calls: [number, number][] = [];
    expect(
      await allPages(
        pager(() => list(1_203), calls),
        500,
      ),
    ).toEqual(list(1_203));
    expect(calls).toEqual([
      [0, 500],
      [500, 500],
      [1000, 500],
    ]);
  });

  it('reads an empty list and a list of exactly one page', async () => {
    expect(
      await allPages(
        pager(() => []),
        500,
      ),
    ).toEqual([]);
    expect(
      await allPages(
        pager(() => list(500)),
        500,
      ),
    ).toEqual(list(500));
  });

  it('starts over when an entry arrives while it reads, so none is doubled or lost', async () => {
    let n = 7;
    let reads = 0;
    const rows = () => {
      reads++;
      // One new entry (newest first: it shifts every page) after the first read.
      if (reads === 2) n = 8;
      return list(n);
    };
    expect(await allPages(pager(rows), 3)).toEqual(list(8));
  });
});

describe('the exports', () => {
  const ts = Date.UTC(2025, 0, 2, 3, 4, 5, 6);

  it("writes a vault's history oldest first, amounts exact, its label quoted", () => {
    const text = vaultHistoryCsv({ id: 12, label: 'Alice, "savings"' }, [
      {
        ts: ts + 2_000,
        kind: 'repay',
        collateralChangeSats: 0,
        collateralAfterSats: 100_000,
        debtChangeCents: -5_001,
        debtAfterCents: 4_999,
        feeSats: null,
        txid: null,
      },
      {
        ts: ts + 1_000,
        kind: 'mint',
        collateralChangeSats: 0,
        collateralAfterSats: 100_000,
        debtChangeCents: 10_000,
        debtAfterCents: 10_000,
        feeSats: null,
        txid: null,
      },
      {
        ts,
        kind: 'deposit',
        collateralChangeSats: 100_000,
        collateralAfterSats: 100_000,
        debtChangeCents: 0,
        debtAfterCents: 0,
        feeSats: null,
        txid: 'ab'.repeat(32),
      },
    ]);
    expect(text.split('\r\n')).toEqual([
      'date_utc,type,collateral_change_btc,collateral_after_btc,debt_change_bsusd,debt_after_bsusd,network_fee_btc,txid,vault_id,vault_label',
      `2025-01-02T03:04:05.006Z,deposit,0.00100000,0.00100000,0.00,0.00,,${'ab'.repeat(32)},12,"Alice, ""savings"""`,
      '2025-01-02T03:04:06.006Z,mint,0.00000000,0.00100000,100.00,100.00,,,12,"Alice, ""savings"""',
      '2025-01-02T03:04:07.006Z,repay,0.00000000,0.00100000,-50.01,49.99,,,12,"Alice, ""savings"""',
      '',
    ]);
  });

  it('writes the statement oldest first, with the memo as text', () => {
    const text = statementCsv([
      {
        entryId: 9,
        ts: ts + 1,
        kind: 'transfer',
        amountCents: -250,
        balanceAfterCents: 9_750,
        vaultId: null,
        memo: 'rent, March',
        counterparty: 'bsa1qqqq',
      },
      {
        entryId: 4,
        ts,
        kind: 'mint',
        amountCents: 10_000,
        balanceAfterCents: 10_000,
        vaultId: 3,
        memo: null,
        counterparty: null,
      },
    ]);
    expect(text).toBe(
      'date_utc,entry_id,type,amount_bsusd,balance_after_bsusd,vault_id,counterparty,memo\r\n' +
        '2025-01-02T03:04:05.006Z,4,mint,100.00,100.00,3,,\r\n' +
        '2025-01-02T03:04:05.007Z,9,transfer,-2.50,97.50,,bsa1qqqq,"rent, March"\r\n',
    );
  });
});
