/**
 * Structured JSON logs (pino). Secrets never reach a log line: every field that can hold one is
 * redacted by path, whatever object it sits in, and events carry vault and auction ids so one
 * vault's story can be grepped from the log.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { CoreEventType, EventBus } from '../events/bus';

/** Field names that may hold secrets, at any of the first levels of a logged object. */
const SECRET_FIELDS = [
  'passphrase',
  'password',
  'token',
  'authorization',
  'cookie',
  'mnemonic',
  'seed',
  'secret',
  'xprv',
  'tprv',
  'privateKey',
];
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

export interface LogOptions {
  level?: pino.LevelWithSilent;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
  /** Fields on every line (e.g. network). */
  base?: Record<string, unknown>;
}

/** The app's logger: JSON lines, ISO times, secrets redacted. */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'bitstable', ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Extended private keys have no field name of their own when they appear inside text.
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) =>
              typeof a === 'string'
                ? a.replace(/\b[xt]prv[1-9A-HJ-NP-Za-km-z]{100,}/g, '[redacted]')
                : a,
            ) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
}

const EVENT_LEVELS: Partial<Record<CoreEventType, 'info' | 'warn'>> = {
  'auction.started': 'warn',
  'node.status': 'warn',
};

/** Logs every core event as one line with its ids (vaultId, auctionId, roundId…); returns unsubscribe. */
export function logEvents(bus: EventBus, logger: Logger): () => void {
  const types: CoreEventType[] = [
    'vault.created',
    'vault.changed',
    'price.accepted',
    'node.status',
    'auction.started',
    'auction.changed',
    'spend.confirmed',
  ];
  const offs = types.map((type) =>
    bus.on(type, (payload) =>
      logger[EVENT_LEVELS[type] ?? 'info']({ event: type, ...payload }, type),
    ),
  );
  return () => offs.forEach((off) => off());
}
