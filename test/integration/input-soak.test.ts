import { describe, expect, it } from 'vitest';
import { run } from '../../scripts/soak/input';

describe('soak input (short)', () => {
  it('answers 600 malformed, oversized and wrong-role calls with typed rejections and changes nothing', async () => {
    const result = await run({ runs: 600, seed: 7, log: () => {} });
    expect(result.details).toEqual([]);
    expect(result.line).toMatch(/^soak input runs=600 failures=0 .*db_identical=true complete=yes/);
  });
});
