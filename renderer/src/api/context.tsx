/**
 * The client in React: a context, typed query and mutation hooks over TanStack Query, and live
 * updates — each event invalidates the queries it makes stale.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type UseQueryOptions,
} from '@tanstack/react-query';
import type { MethodName, Params, Result } from '../../../core/api/contract';
import type { ApiEvent } from '../../../core/api/events';
import type { ApiCallError, BitStableClient, ConnectionState } from './client';

const ClientContext = createContext<BitStableClient | null>(null);

export function ClientProvider({
  client,
  children,
}: {
  client: BitStableClient;
  children: ReactNode;
}) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): BitStableClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('no BitStable client');
  return c;
}

/** Query keys start with the method name, so invalidating a method refreshes every use of it. */
export const key = <M extends MethodName>(method: M, params?: Params<M>) =>
  params === undefined ? [method] : [method, params];

/** A typed query of one API method. */
export function useApi<M extends MethodName>(
  method: M,
  params: Params<M>,
  options: Omit<UseQueryOptions<Result<M>, ApiCallError>, 'queryKey' | 'queryFn'> = {},
) {
  const client = useClient();
  return useQuery<Result<M>, ApiCallError>({
    queryKey: key(method, params),
    queryFn: () => client.call(method, params),
    ...options,
  });
}

/** A typed mutation of one API method; refreshes everything it may have changed. */
export function useApiMutation<M extends MethodName>(method: M) {
  const client = useClient();
  const qc = useQueryClient();
  return useMutation<Result<M>, ApiCallError, Params<M>>({
    mutationFn: (params) => client.call(method, params),
    onSettled: () => {
      if (!method.startsWith('vaults.preview') && method !== 'psbt.decode')
        void qc.invalidateQueries();
    },
  });
}

const STALE_BY_EVENT: Record<ApiEvent['type'], MethodName[]> = {
  'vault.created': ['vaults.list', 'vaults.get', 'status.get', 'recoveryKit.get'],
  'vault.changed': [
    'vaults.list',
    'vaults.get',
    'vaults.history',
    'status.get',
    'balance.get',
    'auctions.list',
    'books.get',
  ],
  'price.round': ['price.get'],
  // Each accepted round also moves the accrued fee and the system ratio.
  'price.accepted': [
    'price.get',
    'price.history',
    'vaults.list',
    'vaults.get',
    'vaults.history',
    'books.get',
  ],
  'node.status': ['status.get'],
  'auction.started': ['auctions.list', 'vaults.list', 'vaults.get', 'spends.awaitingGuardian'],
  'auction.changed': [
    'books.get',
    'pool.get',
    'auctions.list',
    'auctions.get',
    'vaults.list',
    'vaults.get',
    'balance.get',
    'status.get',
  ],
  'spend.confirmed': ['vaults.list', 'vaults.get', 'auctions.list', 'spends.awaitingGuardian'],
  'spend.changed': ['vaults.list', 'vaults.get', 'auctions.list', 'spends.awaitingGuardian'],
  'bsusd.transfer': ['balance.get', 'account.get', 'bsusd.statement', 'status.get'],
  'signer.prompt': [],
  progress: [],
};

/** Invalidates queries as events arrive (batched per animation frame). */
export function useLiveUpdates(client: BitStableClient, qc: QueryClient): void {
  useEffect(() => {
    const stale = new Set<MethodName>();
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      for (const m of stale) void qc.invalidateQueries({ queryKey: [m] });
      stale.clear();
    };
    const offEvents = client.onEvent((e) => {
      for (const m of STALE_BY_EVENT[e.type] ?? []) stale.add(m);
      if (stale.size && !scheduled) {
        scheduled = true;
        setTimeout(flush, 100);
      }
    });
    const offConn = client.onConnection((s) => {
      if (s === 'open') void qc.invalidateQueries();
    });
    return () => {
      offEvents();
      offConn();
    };
  }, [client, qc]);
}

/** The connection's state, live. */
export function useConnection(): ConnectionState {
  const client = useClient();
  const [state, setState] = useState(client.connection());
  useEffect(() => client.onConnection(setState), [client]);
  return state;
}

/** Events of one type, as they arrive (for prompts and progress). */
export function useEvents<T extends ApiEvent['type']>(
  type: T,
  listener: (e: Extract<ApiEvent, { type: T }>) => void,
): void {
  const client = useClient();
  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type === type) listener(e as Extract<ApiEvent, { type: T }>);
      }),
    // The listener is expected to be stable (useCallback) or cheap to resubscribe.
    [client, type, listener],
  );
}
