/**
 * A first check of a Bitcoin address as it is typed: its network, told by its prefix (the node
 * checks the whole address, checksum included, again). What the person pasted is caught under
 * the field, before any review: a mainnet bc1… in a regtest app, or a tb1… on mainnet.
 */
import type { Result } from '../../../core/api/contract';

type Network = Result<'status.get'>['network'];

const NAMES: Record<Network, string> = {
  mainnet: 'mainnet',
  testnet: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
};

/** The networks an address's prefix can belong to, or null when it is no Bitcoin address form. */
function networksOf(address: string): Network[] | null {
  const bech = /^([a-z]+)1[02-9ac-hj-np-z]{6,}$/.exec(address.toLowerCase());
  if (bech) {
    if (bech[1] === 'bc') return ['mainnet'];
    if (bech[1] === 'tb') return ['testnet', 'signet'];
    if (bech[1] === 'bcrt') return ['regtest'];
    return null;
  }
  if (!/^[1-9A-HJ-NP-Za-km-z]{25,35}$/.test(address)) return null;
  if (address.startsWith('1') || address.startsWith('3')) return ['mainnet'];
  if (/^[mn2]/.test(address)) return ['testnet', 'signet', 'regtest'];
  return null;
}

/** Why `text` cannot be an address on `network`, in a sentence; null if it may be. */
export function addressProblem(text: string, network: Network | undefined): string | null {
  const address = text.trim();
  if (!address || !network) return null;
  const nets = networksOf(address);
  if (!nets) return 'That does not look like a Bitcoin address.';
  if (nets.includes(network)) return null;
  return `That is a ${nets.map((n) => NAMES[n]).join(' or ')} address; BitStable runs on ${NAMES[network]} here. Use a ${NAMES[network]} address.`;
}
