/**
 * `npm run bench`: every benchmark, each printing its figures beside a baseline or target
 * measured in the same run. Timing goals live here, never in tests.
 */
import { main as oracle } from './bench-oracle';
import { both as health } from './bench-health';
import { main as healthPg } from './bench-health-pg';
import { main as createVault } from './bench-create-vault';
import { main as settlement } from './bench-settlement';
import { main as wallets } from './bench-wallets';
import { main as gateway } from './bench-gateway';
import { main as uiList } from './bench-ui-list';

await oracle();
await health();
await healthPg();
await settlement();
await createVault();
await wallets();
await gateway();
await uiList();
