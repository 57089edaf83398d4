/**
 * Migration 14: the vault list's totals and counts read from indexes alone (issue 15 item 10's
 * search target): every vaults.list call counts a network's vaults by state with their collateral,
 * and the empty Pending ones among them, and sums the debts of those that owe. Read from the table
 * those walked every row (a vault's row holds its descriptor): about 10 ms at 10,000 vaults, the
 * larger part of a search. A covering index answers the counts, a search's by label or address
 * too; a partial one holds only the vaults with debt.
 */
export default /* sql */ `
CREATE INDEX vaults_list_totals
  ON vaults (network, account_id, state, collateral_sats, incoming_sats, label, address);
CREATE INDEX vaults_with_debt
  ON vaults (network, account_id, id, state, debt_cents, debt_art)
  WHERE debt_art > 0 OR debt_cents > 0;
`;
