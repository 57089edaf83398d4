/** Calls on a gateway's `POST /rpc` as a test makes them, and waiting for a condition. */

/** One JSON-RPC call; resolves with the result or rejects with an Error carrying the typed code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are JSON; the assertions check them
export async function rpcCall<T = any>(
  baseUrl: string,
  token: string | null,
  method: string,
  params: unknown = {},
): Promise<T> {
  const res = await fetch(`${baseUrl}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as {
    result?: T;
    error?: { message: string; data: { code: string } };
  };
  if (body.error)
    throw Object.assign(new Error(body.error.message), { code: body.error.data.code });
  return body.result as T;
}

/** Reads until `ok` holds (a read that throws is retried), or fails naming `what` after `ms`. */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = JSON.stringify(v);
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Opens a vault through a wallet's or node's API (`call`), funds it with each of `deposits`
 * from the regtest faucet, mines a block and waits until it is active with all of them.
 */
export async function openActiveVault(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are JSON
  call: (method: string, params?: unknown) => Promise<any>,
  deposits: number[],
  params: Record<string, unknown> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are JSON
): Promise<any> {
  const vault = await call('vaults.create', params);
  for (const amountSats of deposits)
    await call('regtest.faucet', { address: vault.address, amountSats });
  await call('regtest.mine', { blocks: 1 });
  const total = deposits.reduce((a, b) => a + b, 0);
  await until(
    'the vault active with its deposits',
    () => call('vaults.get', { vaultId: vault.id }),
    (v) => v.state === 'active' && v.collateralSats === total,
  );
  return vault;
}

/**
 * Creates `count` vaults labelled `${label} ${n}` (n from 1) through JSON-RPC batches of 50 (the
 * gateway runs a batch's calls concurrently); returns their ids in order of n.
 */
export async function createVaults(
  baseUrl: string,
  token: string,
  count: number,
  label = 'vault',
): Promise<number[]> {
  const ids: number[] = [];
  for (let from = 1; from <= count; from += 50) {
    const batch = Array.from({ length: Math.min(50, count - from + 1) }, (_, i) => ({
      jsonrpc: '2.0',
      id: from + i,
      method: 'vaults.create',
      params: { label: `${label} ${from + i}` },
    }));
    const res = await fetch(`${baseUrl}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(batch),
    });
    const replies = (await res.json()) as {
      id: number;
      result?: { id: number };
      error?: unknown;
    }[];
    const byId = new Map(replies.map((r) => [r.id, r]));
    for (const req of batch) {
      const r = byId.get(req.id);
      if (!r?.result)
        throw new Error(`vaults.create ${req.id} failed: ${JSON.stringify(r?.error)}`);
      ids.push(r.result.id);
    }
  }
  return ids;
}
