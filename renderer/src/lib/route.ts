/**
 * A small hash router: works the same from the gateway (http://) and from Electron (file://).
 * Routes: #/ · #/vaults/new · #/vaults/:id · #/auctions · #/bsusd · #/redeem · #/pool · #/regtest ·
 * #/settings · #/alone
 */
import { useEffect, useState } from 'react';

export type Route =
  | { page: 'dashboard' }
  | { page: 'create' }
  | { page: 'vault'; id: number }
  | { page: 'auctions' }
  | { page: 'money' }
  | { page: 'redeem' }
  | { page: 'pool' }
  | { page: 'regtest' }
  | { page: 'settings' }
  | { page: 'alone' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '') return { page: 'dashboard' };
  if (path === '/vaults/new') return { page: 'create' };
  const m = /^\/vaults\/(\d{1,15})$/.exec(path);
  if (m) return { page: 'vault', id: Number(m[1]) };
  if (path === '/auctions') return { page: 'auctions' };
  if (path === '/bsusd') return { page: 'money' };
  if (path === '/redeem') return { page: 'redeem' };
  if (path === '/pool') return { page: 'pool' };
  if (path === '/regtest') return { page: 'regtest' };
  if (path === '/settings') return { page: 'settings' };
  if (path === '/alone') return { page: 'alone' };
  return { page: 'not-found', path };
}

export const href = {
  dashboard: '#/',
  create: '#/vaults/new',
  vault: (id: number) => `#/vaults/${id}`,
  auctions: '#/auctions',
  money: '#/bsusd',
  redeem: '#/redeem',
  pool: '#/pool',
  regtest: '#/regtest',
  settings: '#/settings',
  alone: '#/alone',
};

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
