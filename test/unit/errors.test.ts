import { describe, expect, it } from 'vitest';
import { BitStableError, ERROR_CODES, toWireError } from '../../core/errors';

describe('errors', () => {
  it('has unique codes', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it('serializes typed errors with code, sentence and data, and hides unknown ones', () => {
    expect(
      toWireError(new BitStableError('VAULT_NOT_FOUND', 'There is no vault #9.', { vaultId: 9 })),
    ).toEqual({
      code: 'VAULT_NOT_FOUND',
      message: 'There is no vault #9.',
      data: { vaultId: 9 },
    });
    const wire = toWireError(new Error('SQLITE_CORRUPT at /home/me/secret/path'));
    expect(wire.code).toBe('INTERNAL');
    expect(wire.message).not.toContain('/home/me');
  });
});
