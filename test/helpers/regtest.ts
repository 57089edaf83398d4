/**
 * The one module that owns regtest node lifecycles in tests: starts a real bitcoind before the
 * file's tests and always stops it after them, even when they fail.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { RegtestNode, type RegtestOptions } from '../../core/node/regtest';

/** Starts a node for the current test file; call `node()` inside tests. */
export function useRegtestNode(options: RegtestOptions = {}): () => RegtestNode {
  let node: RegtestNode | undefined;
  beforeAll(async () => {
    node = await RegtestNode.start(options);
  });
  afterAll(async () => {
    if (!node) return;
    await node.stop();
    if (!options.dataDir) rmSync(node.dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!node) throw new Error('the regtest node did not start; see the beforeAll error');
    return node;
  };
}
