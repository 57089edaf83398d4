/** A real regtest node that fits the recorded Ledger exchanges (../shared/ledger). */
import { BitStableNode } from '../../core/app/bitstable-node';
import { network } from '../../core/config/networks';
import { InMemoryKeyStore } from '../../core/keys/keystore';
import { secretNames } from '../../core/keys/node-keys';
import type { Bps } from '../../core/money';
import type { Signer } from '../../core/signers/types';
import type { Flow } from '../fixtures/ledger/recordings';

/**
 * A regtest BitStable node whose protocol key is the recording's cosigner-1 (its seed) and whose
 * guardian is cosigner-2's xpub (a guardian who signs by file): the policy of a vault on the
 * recording's device key is then the one the device registered. `owner`: the node's own owner
 * signer (local mode), if any.
 */
export async function nodeWithRecordedCosigners(
  flow: Flow,
  dataDir: string,
  owner?: Signer,
): Promise<BitStableNode> {
  const keyStore = new InMemoryKeyStore();
  await keyStore.put(
    secretNames(network('regtest')).protocolSeed,
    Buffer.from(flow.inputs.cosigners[0]!.seedHex, 'hex'),
  );
  return BitStableNode.start({
    dataDir,
    network: 'regtest',
    keyStore,
    guardian: flow.inputs.policy.keys[2]!,
    params: { stabilityFeeBps: 0 as Bps },
    ...(owner ? { owner } : {}),
  });
}
