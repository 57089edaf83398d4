/**
 * The one dispatcher behind every transport: checks the caller's permission, validates the
 * arguments against the method's schema (bad ones never reach the core, so they change nothing),
 * calls the core, validates the result, and turns every failure into `{code, message}`.
 *
 * It also fans out events: the core's EventBus plus the host's signer prompts and progress lines.
 */
import type { z } from 'zod';
import { API, allows, isMethodName, type MethodName, type Result, type Role } from './contract';
import { ApiBoundaryError, toApiError, type ApiError } from './errors';
import { CORE_EVENT_TYPES, type ApiEvent } from './events';
import { createHandlers, type ApiCore, type ApiHostInfo, type Handlers } from './handlers';

/** Who is calling: the roles their token (or the desktop window) holds. */
export interface CallContext {
  roles: readonly Role[];
}

export type DispatchOutcome<M extends MethodName = MethodName> =
  { ok: true; result: Result<M> } | { ok: false; error: ApiError };

export interface ApiLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ApiServiceOptions {
  core: ApiCore;
  host?: ApiHostInfo;
  logger?: ApiLogger;
  /** Called after every call (metrics). */
  onCall?: (method: string, outcome: 'ok' | string, ms: number) => void;
}

/** The API over one running node. */
export interface ApiService {
  dispatch(method: string, params: unknown, ctx: CallContext): Promise<DispatchOutcome>;
  /** Receives every event; returns the unsubscribe function. */
  subscribe(listener: (event: ApiEvent) => void): () => void;
  /** Sends a host event (signer prompts from a device, progress lines) to every subscriber. */
  emit(event: ApiEvent): void;
  /** Detaches from the core's event bus. */
  close(): void;
}

/** Builds the dispatcher and the event fan-out for a running node. */
export function createApiService(options: ApiServiceOptions): ApiService {
  const listeners = new Set<(event: ApiEvent) => void>();
  const emit = (event: ApiEvent) => {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        options.logger?.warn({ err }, 'event listener failed');
      }
    }
  };
  const handlers: Handlers = createHandlers({ core: options.core, host: options.host ?? {}, emit });
  const unsubscribe = CORE_EVENT_TYPES.map((type) =>
    options.core.bus.on(type, (payload) => emit({ type, payload } as ApiEvent)),
  );

  async function dispatch(
    method: string,
    params: unknown,
    ctx: CallContext,
  ): Promise<DispatchOutcome> {
    const started = performance.now();
    const outcome = await run(method, params, ctx);
    options.onCall?.(
      isMethodName(method) ? method : 'unknown',
      outcome.ok ? 'ok' : outcome.error.code,
      performance.now() - started,
    );
    return outcome;
  }

  async function run(method: string, params: unknown, ctx: CallContext): Promise<DispatchOutcome> {
    try {
      if (!isMethodName(method)) {
        throw new ApiBoundaryError(
          'METHOD_NOT_FOUND',
          `There is no API method "${String(method).slice(0, 60)}".`,
          {
            method: String(method).slice(0, 60),
          },
        );
      }
      const spec = API[method];
      if (!allows(ctx.roles, spec.permission)) {
        throw new ApiBoundaryError(
          'FORBIDDEN',
          `This token may not call ${method}: it needs the ${spec.permission} permission.`,
          { method, permission: spec.permission },
        );
      }
      // Omitted params mean none; `null` or any other non-object is refused by the schema.
      const parsed = (spec.params as z.ZodType).safeParse(params === undefined ? {} : params);
      if (!parsed.success) {
        return { ok: false, error: invalidArguments(method, parsed.error.issues) };
      }
      const handler = handlers[method] as (p: unknown) => unknown;
      const raw = await handler(parsed.data);
      const checked = (spec.result as z.ZodType).safeParse(raw);
      if (!checked.success) {
        options.logger?.error(
          { method, issues: checked.error.issues.slice(0, 5) },
          'API result does not match the contract',
        );
        return { ok: false, error: toApiError(new Error('result does not match the contract')) };
      }
      return { ok: true, result: checked.data as Result<MethodName> };
    } catch (err) {
      const error = toApiError(err);
      if (error.code === 'INTERNAL') options.logger?.error({ err, method }, 'API call failed');
      return { ok: false, error };
    }
  }

  return {
    dispatch,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit,
    close() {
      for (const u of unsubscribe) u();
      listeners.clear();
    },
  };
}

/** INVALID_ARGUMENT with one plain sentence naming each wrong field. */
export function invalidArguments(method: string, issues: readonly z.core.$ZodIssue[]): ApiError {
  const parts = issues.slice(0, 4).map(describeIssue);
  return {
    code: 'INVALID_ARGUMENT',
    message: `Check the arguments: ${parts.join('; ')}.`,
    data: {
      method,
      issues: issues
        .slice(0, 10)
        .map((i) => ({ path: i.path.map(String).join('.'), message: describeIssue(i) })),
    },
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.map(String).join('.') : 'the arguments';
  const custom = issue.message && !/^Invalid|^Too (big|small)|^Unrecognized/.test(issue.message);
  switch (issue.code) {
    case 'invalid_type':
      if (/received undefined/.test(issue.message)) return `${field} is missing`;
      if (custom) return `${field} ${issue.message}`;
      return `${field} must be ${article(issue.expected)}`;
    case 'too_small':
      if (custom) return `${field} ${issue.message}`;
      return issue.origin === 'string'
        ? `${field} must not be empty`
        : `${field} must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (custom) return `${field} ${issue.message}`;
      return issue.origin === 'string'
        ? `${field} is too long`
        : `${field} must be at most ${String(issue.maximum)}`;
    case 'unrecognized_keys':
      return `${issue.keys.join(', ')} ${issue.keys.length === 1 ? 'is not a field' : 'are not fields'} of this method`;
    case 'invalid_value':
      return `${field} must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `${field} is not in the right format`;
    default:
      return custom ? `${field} ${issue.message}` : `${field} is not valid`;
  }
}

function article(type: string): string {
  const names: Record<string, string> = {
    int: 'a whole number',
    number: 'a number',
    string: 'text',
    boolean: 'true or false',
    object: 'an object',
    array: 'a list',
  };
  return names[type] ?? type;
}
