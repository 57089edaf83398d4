/** Error codes of refusals, for tests that match codes rather than message text. */

/** The `code` of what `fn` throws, or 'no error'. */
export function codeOfSync(fn: () => unknown): string {
  try {
    const result = fn();
    if (result instanceof Promise) {
      result.catch(() => undefined);
      throw new Error('codeOfSync was given an asynchronous call: use `await codeOf(…)`');
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('codeOfSync was given')) throw err;
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
