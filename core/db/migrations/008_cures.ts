/**
 * Migration 8: an auction can end cured (SPEC §8.2): before its first take, the vault came back
 * to the warning ratio at a fresh price, so it ends without penalty, settlement or deficit. A
 * cured auction is `settled` (it is closed, and the vault may be liquidated again later) with
 * `cured_at` set.
 */
export default /* sql */ `
ALTER TABLE liquidations ADD COLUMN cured_at INTEGER;
`;
