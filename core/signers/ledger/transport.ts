/**
 * Opens the connection to the Ledger chosen by configuration: USB HID (the default, a real
 * device) or the Speculos emulator over HTTP (development). Runs in the main process only.
 */
import type Transport from '@ledgerhq/hw-transport';
import { deviceError } from './device-errors';

/** How to reach the Ledger. */
export type LedgerTransportConfig =
  | { kind: 'hid' }
  | {
      kind: 'speculos';
      /** Speculos's REST API port (its `--api-port`, 5000 by default). */
      apiPort: number;
      /** Defaults to http://localhost. */
      baseURL?: string;
    };

// The transports are CommonJS with `exports.default`; depending on the loader the class is the
// namespace's `default` or its `default.default`.
function cjsDefault<T>(mod: { default: unknown }): T {
  const d = mod.default as { default?: unknown };
  return (d && typeof d === 'object' && 'default' in d ? d.default : d) as T;
}

interface TransportClass<A> {
  open(arg: A): Promise<unknown>;
}

/** Opens the configured transport; no device or no emulator is DEVICE_NOT_FOUND. */
export async function openLedgerTransport(
  config: LedgerTransportConfig = { kind: 'hid' },
): Promise<Transport> {
  try {
    // Imported on demand: node-hid is a native module the tests and headless runs never need.
    if (config.kind === 'speculos') {
      const Speculos = cjsDefault<TransportClass<{ apiPort: string; baseURL?: string }>>(
        await import('@ledgerhq/hw-transport-node-speculos-http'),
      );
      const opts = {
        apiPort: String(config.apiPort),
        ...(config.baseURL ? { baseURL: config.baseURL } : {}),
      };
      // Each transport package bundles its own copy of hw-transport; the API is the same.
      return (await Speculos.open(opts)) as Transport;
    }
    const Hid = cjsDefault<TransportClass<string>>(await import('@ledgerhq/hw-transport-node-hid'));
    // An empty path opens the first Ledger found, or fails at once with "NoDevice".
    return (await Hid.open('')) as Transport;
  } catch (err) {
    throw deviceError(err, { op: 'open' });
  }
}
