import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Secrets whose text is replaced with `[REDACTED]` wherever it appears in a message. */
  secrets?: string[];
  destination?: NodeJS.WritableStream;
}

/** Keys redacted in every logged object, at the top level and one level down. */
const REDACTED_PATHS = [
  'token',
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.token',
  '*.authorization',
  '*.Authorization',
];

/**
 * Creates the agent's logger: JSON lines by default, human-readable when stdout is a terminal.
 * The pretty printer runs in-process so the single-file bundle needs no worker threads, and its
 * package is loaded only for the pretty format.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const isTerminal = 'isTTY' in destination && Boolean(destination.isTTY);
  const usePretty = options.format === 'pretty' || (options.format !== 'json' && isTerminal);
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);

  const base = {
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    hooks: {
      // Masks a secret that slipped into a message string, such as an error from a library.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        if (secrets.length > 0) {
          for (let index = 0; index < args.length; index++) {
            const value = args[index];
            if (typeof value === 'string') args[index] = maskSecrets(value, secrets);
          }
        }
        method.apply(this, args);
      },
    },
  };
  const stream = usePretty
    ? loadPinoPretty().build({
        destination,
        sync: true,
        colorize: isTerminal,
        translateTime: 'SYS:standard',
      })
    : destination;
  return pino(base, stream as pino.DestinationStream);
}

/** True in the CommonJS bundle, where packaging/bundle.mjs defines it; undefined elsewhere. */
declare const MFC_COMMONJS_BUNDLE: boolean | undefined;

/**
 * Loads pino-pretty synchronously. esbuild puts a package into the CommonJS bundle only for a
 * literal `require` call, while the compiled CLI is an ES module without `require`.
 */
function loadPinoPretty(): typeof import('pino-pretty') {
  if (typeof MFC_COMMONJS_BUNDLE !== 'undefined') return require('pino-pretty');
  return createRequire(import.meta.url)('pino-pretty');
}

/** Replaces every occurrence of each secret in `text` with `[REDACTED]`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) {
    if (secret.length > 0) masked = masked.split(secret).join('[REDACTED]');
  }
  return masked;
}

/**
 * Lets one log line through per key and interval, and counts what it held back so the next
 * line can report `suppressed`.
 */
export class LogRateLimiter {
  private readonly lastAt = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly intervalMs = 10_000) {}

  /** Returns the number of suppressed repeats to report, or -1 when this line must be dropped. */
  take(key: string, now = Date.now()): number {
    const entry = this.lastAt.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return -1;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.lastAt.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
