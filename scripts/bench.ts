/**
 * `npm run bench`: every benchmark, each printing its figures beside a baseline or target
 * measured in the same run. Timing goals live here, never in tests.
 */
import { main as oracle } from './bench-oracle';
import { both as health } from './bench-health';
import { main as createVault } from './bench-create-vault';
import { main as settlement } from './bench-settlement';
import { main as wallets } from './bench-wallets';

await oracle();
await health();
await settlement();
await createVault();
await wallets();
