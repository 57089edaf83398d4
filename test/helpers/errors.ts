/** Error codes of refusals, for tests that match codes rather than message text. */

/** The `code` of what `fn` throws, or 'no error'. */
export function codeOfSync(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return String((err as { code?: unknown }).code ?? 'no code');
  }
  return 'no error';
}

/** The `code` of what `fn` throws or rejects with, or 'no error'. */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return String((err as { code?: unknown }).code ?? 'no code');
  }
  return 'no error';
}
