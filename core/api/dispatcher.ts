/**
 * The one dispatcher behind every transport: checks the caller's permission, validates the
 * arguments against the method's schema (bad ones never reach the core, so they change nothing),
 * calls the core, validates the result, and turns every failure into `{code, message}`.
 *
 * It also fans out events: the core's EventBus plus the host's signer prompts and progress lines.
 */
import type { z } from 'zod';
import {
  API,
  allows,
  isMethodName,
  type MethodName,
  type Result,
  type Role,
  type Scope,
} from './contract';
import { BitStableError } from '../errors';
import { ApiBoundaryError, toApiError, type ApiError } from './errors';
import { CORE_EVENT_TYPES, type ApiEvent } from './events';
import { createHandlers, type ApiCore, type ApiHostInfo, type Handlers } from './handlers';

/**
 * Who is calling: the roles their token (or the desktop window) holds, and the account they act
 * for. `account` left out means the node's own account (local mode: the desktop window, and
 * tokens from the token file bound to no account); `null` means none (an anonymous caller, or
 * an operator token that acts for nobody).
 */
export interface CallContext {
  roles: readonly Role[];
  account?: string | null;
  /** The session token the call was made with (a signed-in wallet's; not a gateway token). */
  session?: string;
}

/** The caller as a handler sees it, after the dispatcher's checks. */
export interface Caller {
  account: string | null;
  admin: boolean;
  /** The call comes from this machine's own window or host (no account of its own in ctx). */
  here?: boolean;
  /** The session token the call was made with, if it was made with one. */
  session?: string;
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
  /**
   * Receives events; returns the unsubscribe function. With a caller's context, only what that
   * caller may see: public events (prices, auctions, the node), their own vaults' and spends'
   * events, transfers to or from them, and (for the node's own account) the host's prompts. An
   * admin sees everything. Without one: every event (the host itself).
   */
  subscribe(listener: (event: ApiEvent) => void, ctx?: CallContext): () => void;
  /** Sends a host event (signer prompts from a device, progress lines) to every subscriber. */
  emit(event: ApiEvent): void;
  /** Resolves once every event emitted so far has reached its listeners. */
  delivered?(): Promise<void>;
  /** Detaches from the core's event bus. */
  close(): void;
}

/** Builds the dispatcher and the event fan-out for a running node. */
export function createApiService(options: ApiServiceOptions): ApiService {
  const listeners = new Map<(event: ApiEvent) => void, (() => Caller) | null>();
  const callerOf = (ctx: CallContext): Caller => ({
    account: ctx.account === undefined ? options.core.activeAccountId() : ctx.account,
    admin: ctx.roles.includes('admin'),
    here: ctx.account === undefined,
    ...(ctx.session ? { session: ctx.session } : {}),
  });
  // A vault's account, once it has one, never changes: kept here so most events need no read.
  const owners = new Map<number, string>();
  const vaultOwner = async (vaultId: number): Promise<string | null> => {
    const known = owners.get(vaultId);
    if (known !== undefined) return known;
    const account = (await options.core.store.vaults.accountOf(vaultId)) ?? null;
    if (account !== null) owners.set(vaultId, account);
    return account;
  };
  type Audience = 'all' | readonly (string | null)[];
  /** Who may see an event, when that needs no read (undefined: it needs the vault's account). */
  const audienceNow = (event: ApiEvent): Audience | undefined => {
    switch (event.type) {
      case 'vault.created':
      case 'vault.changed':
      case 'spend.confirmed':
      case 'spend.changed': {
        const known = owners.get(event.payload.vaultId);
        return known === undefined ? undefined : [known];
      }
      case 'bsusd.transfer':
        return [event.payload.from, event.payload.to];
      case 'signer.prompt':
      case 'progress':
        return [options.core.activeAccountId()];
      default:
        return 'all';
    }
  };
  const audienceOf = async (event: ApiEvent): Promise<Audience> =>
    audienceNow(event) ??
    ('vaultId' in event.payload ? [await vaultOwner(event.payload.vaultId)] : 'all');
  const onlyAdmins = () => {
    for (const callerNow of listeners.values()) {
      const caller = callerNow?.();
      if (caller && !caller.admin) return false;
    }
    return true;
  };
  const deliver = (event: ApiEvent, audience: Audience) => {
    for (const [l, callerNow] of listeners) {
      const caller = callerNow?.();
      if (caller && !caller.admin) {
        if (audience !== 'all' && (caller.account === null || !audience.includes(caller.account)))
          continue;
      }
      try {
        l(event);
      } catch (err) {
        options.logger?.warn({ err }, 'event listener failed');
      }
    }
  };
  // Events leave in the order they happened. Most go at once; one whose audience needs a read
  // (a vault's account not seen yet) waits for it, and every event after it waits its turn.
  let queued = 0;
  let delivering: Promise<void> = Promise.resolve();
  const emit = (event: ApiEvent) => {
    if (queued === 0) {
      const audience = onlyAdmins() ? 'all' : audienceNow(event);
      if (audience !== undefined) return deliver(event, audience);
    }
    queued += 1;
    delivering = delivering
      .then(async () => deliver(event, await audienceOf(event)))
      .catch((err: unknown) => options.logger?.warn({ err }, 'event delivery failed'))
      .finally(() => {
        queued -= 1;
      });
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
      if (ctx.roles.length === 0 && spec.permission !== 'Public') {
        throw new ApiBoundaryError(
          'UNAUTHENTICATED',
          `Sign in first: ${method} needs a session or a gateway token.`,
          { method },
        );
      }
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
      const caller = callerOf(ctx);
      const scope = (spec as { scope?: Scope }).scope;
      if (scope) await checkScope(method, scope, spec.permission, parsed.data, caller);
      const handler = handlers[method] as (p: unknown, c: Caller) => unknown;
      const raw = await handler(parsed.data, caller);
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

  /** Ownership (SPEC §3, the seed's verify_ownership): another account's vault is FORBIDDEN. */
  async function checkScope(
    method: string,
    scope: Scope,
    permission: string,
    params: unknown,
    caller: Caller,
  ): Promise<void> {
    const p = params as { vaultId?: number; spendId?: number };
    if (scope === 'account') {
      if (caller.account === null) {
        throw new BitStableError(
          'ACCOUNT_REQUIRED',
          `${method} acts for an account, and this token is bound to none. Sign in, or use a token made with --account.`,
          { method },
        );
      }
      return;
    }
    const vaultId =
      scope === 'vault'
        ? p.vaultId!
        : (await options.core.spends.store.require(p.spendId)).vault_id;
    const owner = (await options.core.vaults.getVault(vaultId)).accountId;
    if (owner !== null && owner === caller.account) return;
    // The operator reads every vault (it holds their public data) and handles the guardian's
    // files of settlements; it changes no one's vault.
    if (caller.admin && (permission === 'Read' || scope === 'spend')) return;
    throw new ApiBoundaryError('FORBIDDEN', `Vault #${vaultId} belongs to another account.`, {
      vaultId,
    });
  }

  return {
    dispatch,
    subscribe(listener, ctx) {
      // The window of this machine follows the playground's switch; anyone else is fixed.
      const fixed = ctx && ctx.account !== undefined ? callerOf(ctx) : null;
      listeners.set(listener, ctx ? (fixed ? () => fixed : () => callerOf(ctx)) : null);
      return () => listeners.delete(listener);
    },
    emit,
    delivered: () => delivering,
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
