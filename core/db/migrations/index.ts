/**
 * Every schema migration in order; migration N brings the database to schema version N.
 * Never edit a migration that has shipped: add the next one.
 */
import m001 from './001_initial';
import m002 from './002_oracle';
import m003 from './003_spends';
import m004 from './004_auctions';
import m005 from './005_guardian_files';
import m006 from './006_backing';
import m007 from './007_accounts';
import m008 from './008_cures';
import m009 from './009_peg';
import m010 from './010_redemptions';
import m011 from './011_pool';
import m012 from './012_ranged_watch';
import m013 from './013_ledger_owner_key';
import m014 from './014_vault_list_indexes';

export const MIGRATIONS: readonly string[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
];
