import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vaultDescriptor, vaultScript, descriptorChecksum } from '../../core/bitcoin/descriptor';
import { parseKey } from '../../core/bitcoin/keys';
import { network, type NetworkName } from '../../core/config/networks';
import { RegtestNode, type Chain } from '../../core/node/regtest';
import { testKeySet } from '../helpers/keys';

// Each network's address format, checked against Bitcoin Core's own deriveaddresses on a node of
// that chain (started offline: deriveaddresses needs only the chain parameters).
const chains: [NetworkName, Chain][] = [
  ['regtest', 'regtest'],
  ['signet', 'signet'],
  ['testnet', 'test'],
  ['mainnet', 'main'],
];

describe('vault descriptors against Bitcoin Core', () => {
  for (const [name, chain] of chains) {
    it(`addresses for indexes 0..19 equal Core's deriveaddresses on ${name}`, async () => {
      const net = network(name);
      const k = testKeySet(net);
      const keys = {
        owner: parseKey(k.owner.expression, net),
        protocol: parseKey(k.protocol.expression, net),
        guardian: parseKey(k.guardian.expression, net),
      };
      const node = await RegtestNode.start({ chain, initialBlocks: 0 });
      try {
        for (let i = 0; i < 20; i++) {
          const desc = vaultDescriptor(keys, i);
          const [fromCore] = await node.rpc.call<string[]>('deriveaddresses', [desc]);
          expect(vaultScript(keys, i, net).address).toBe(fromCore);
        }
        // Core computes the same checksum for the descriptor text we produce.
        const plain = vaultDescriptor(keys, 5).split('#')[0]!;
        const info = await node.rpc.call<{ checksum: string }>('getdescriptorinfo', [plain]);
        expect(descriptorChecksum(plain)).toBe(info.checksum);
      } finally {
        await node.stop();
        rmSync(node.dataDir, { recursive: true, force: true });
      }
    });
  }
});
