/** Settings → Protocol node, as both hosts answer it (a node in local mode, a wallet host). */
import type { NetworkName } from '../config/networks';
import {
  readProtocolChoice,
  testProtocolNode,
  writeProtocolChoice,
  type ProtocolChoice,
} from './choice';

/** What runs now (`runningUrl`: null in local mode) beside what the next start will run. */
export function protocolNodeSetting(
  dataDir: string,
  network: NetworkName,
  runningUrl: string | null,
): { running: ProtocolChoice; chosen: ProtocolChoice; restartNeeded: boolean } {
  const running: ProtocolChoice =
    runningUrl === null ? { mode: 'local', url: null } : { mode: 'remote', url: runningUrl };
  // Nothing chosen in Settings: what the host was started as (local, or --connect URL) stays.
  const chosen = readProtocolChoice(dataDir, network) ?? running;
  return { running, chosen, restartNeeded: chosen.url !== running.url };
}

/** Chooses this computer (null) or the node at `url`, tested first; used from the next start. */
export async function chooseProtocolNode(
  dataDir: string,
  network: NetworkName,
  url: string | null,
  runningUrl: string | null,
): Promise<ReturnType<typeof protocolNodeSetting>> {
  if (url !== null) await testProtocolNode(url, network);
  writeProtocolChoice(dataDir, network, url);
  return protocolNodeSetting(dataDir, network, runningUrl);
}
