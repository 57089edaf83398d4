/** The app: picks the API (Electron bridge or gateway WebSocket), then routes to the pages. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import {
  ApiCallError,
  gatewaySocketUrl,
  ipcClient,
  saveToken,
  takeToken,
  wsClient,
  type BitStableClient,
} from './api/client';
import { ClientProvider, useLiveUpdates } from './api/context';
import { Layout } from './components/Layout';
import { Auctions } from './pages/Auctions';
import { CreateVault } from './pages/CreateVault';
import { Dashboard } from './pages/Dashboard';
import { Money } from './pages/Money';
import { Redeem } from './pages/Redeem';
import { Pool } from './pages/Pool';
import { Regtest } from './pages/Regtest';
import { Settings } from './pages/Settings';
import { VaultPage } from './pages/VaultPage';
import { href, useRoute } from './lib/route';
import { ExitAlone } from './pages/ExitAlone';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 2_000,
      retry: (count, err) =>
        count < 2 && err instanceof ApiCallError && err.code === 'DISCONNECTED',
      refetchOnWindowFocus: true,
    },
  },
});

export function App() {
  const [token, setToken] = useState(() => (window.bitstable ? null : takeToken()));
  const client = useMemo<BitStableClient | null>(() => {
    if (window.bitstable) return ipcClient(window.bitstable);
    return token ? wsClient(gatewaySocketUrl(), token) : null;
  }, [token]);
  if (!client)
    return (
      <TokenScreen
        onToken={(t) => {
          saveToken(t);
          setToken(t);
        }}
      />
    );
  return (
    <QueryClientProvider client={queryClient}>
      <ClientProvider client={client}>
        <Live client={client} />
        <Pages />
      </ClientProvider>
    </QueryClientProvider>
  );
}

function Live({ client }: { client: BitStableClient }) {
  useLiveUpdates(client, queryClient);
  return null;
}

function Pages() {
  const route = useRoute();
  return (
    <Layout route={route}>
      {route.page === 'dashboard' && <Dashboard />}
      {route.page === 'create' && <CreateVault />}
      {route.page === 'vault' && <VaultPage key={route.id} id={route.id} />}
      {route.page === 'auctions' && <Auctions />}
      {route.page === 'money' && <Money />}
      {route.page === 'redeem' && <Redeem />}
      {route.page === 'pool' && <Pool />}
      {route.page === 'regtest' && <Regtest />}
      {route.page === 'settings' && <Settings />}
      {route.page === 'alone' && <ExitAlone />}
      {route.page === 'not-found' && (
        <div className="page">
          <h1>Nothing here</h1>
          <p>
            There is no page at <code>{route.path}</code>.{' '}
            <a href={href.dashboard}>Go to the dashboard</a>.
          </p>
        </div>
      )}
    </Layout>
  );
}

/** Without a token (opened without the printed link): ask for one. */
function TokenScreen({ onToken }: { onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main className="token-screen" data-testid="token-screen">
      <form
        className="card narrow"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
      >
        <h1>
          <span className="brand-mark" aria-hidden="true">
            B
          </span>{' '}
          BitStable
        </h1>
        <p>
          Open the link the headless host printed when it started — it carries your access token. Or
          paste a token from the gateway-tokens.json file in the data folder:
        </p>
        <label htmlFor="token" className="visually-hidden">
          Access token
        </label>
        <input
          id="token"
          className="input"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          autoFocus
          spellCheck={false}
          autoComplete="off"
          placeholder="Access token"
        />
        <div className="actions">
          <button type="submit" className="button primary" disabled={!value.trim()}>
            Connect
          </button>
        </div>
      </form>
    </main>
  );
}
