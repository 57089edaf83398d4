/**
 * zod validation of an exchange's JSON, with failures turned into a typed 'bad-shape' error.
 */
import type { z } from 'zod';
import { sourceError } from '../source-error';

/** Validates `body` against `schema`; rejects with ORACLE_SOURCE_ERROR 'bad-shape'. */
export function parseShape<S extends z.ZodType>(
  source: string,
  schema: S,
  body: unknown,
): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const where = first && first.path.length > 0 ? ` at ${first.path.map(String).join('.')}` : '';
  throw sourceError(source, 'bad-shape', `the answer is not the expected ticker format${where}.`);
}

/** Parses an exchange timestamp given in ms; rejects with 'bad-timestamp' when it is not a time. */
export function checkTimestamp(source: string, ms: number, raw: string): number {
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw sourceError(
      source,
      'bad-timestamp',
      `the timestamp "${raw.slice(0, 40)}" is not a time.`,
    );
  }
  return ms;
}
