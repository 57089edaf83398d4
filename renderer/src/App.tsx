/** The app's root. The dashboard, vault pages and the rest arrive with the UI issue. */
export function App() {
  const inElectron = typeof window !== 'undefined' && 'bitstable' in window;
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: 24 }}>
      <h1>BitStable</h1>
      <p>Bitcoin-backed bsUSD vaults, signed on your Ledger.</p>
      <p>{inElectron ? 'Desktop app' : 'Browser'} · local regtest</p>
    </main>
  );
}
