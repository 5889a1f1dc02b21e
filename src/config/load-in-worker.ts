import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { LoadedConfig } from './load.js';

/** `workerData` that makes a worker load a configuration. */
export interface ConfigLoadRequest {
  task: 'load-config';
  path: string;
  readToken: boolean;
}

/** The one message a configuration worker posts back. */
export type ConfigLoadReply =
  | { ok: true; loaded: LoadedConfig }
  | { ok: false; message: string; problems?: ConfigProblem[] };

declare const MFC_SINGLE_FILE_BUNDLE: boolean | undefined;

/**
 * Loads the configuration like `loadConfig`, but in a worker thread that exits when done. The
 * YAML parser and the zod schema then never load into the long-running process, where importing
 * them alone took about 11 MiB of anonymous memory. Problems come back as the same ConfigError.
 *
 * A one-file bundle loads it on the calling thread instead: a worker would parse the whole
 * bundle again, and its start raised the bundle's peak RSS from about 84 to 91 MiB.
 */
export async function loadConfigInWorker(
  path: string,
  options: { readToken?: boolean; onWorkerOnline?: () => void } = {}
): Promise<LoadedConfig> {
  if (typeof MFC_SINGLE_FILE_BUNDLE !== 'undefined') {
    const { loadConfig } = await import('./load.js');
    return loadConfig(path, process.env, { readToken: options.readToken });
  }
  const request: ConfigLoadRequest = {
    task: 'load-config',
    path,
    readToken: options.readToken ?? true,
  };
  return new Promise((resolve, reject) => {
    let reply: ConfigLoadReply | null = null;
    const worker = new Worker(workerScript(), { workerData: request, stdout: false });
    worker.once('message', (message: ConfigLoadReply) => {
      reply = message;
    });
    if (options.onWorkerOnline) worker.once('online', options.onWorkerOnline);
    worker.once('error', reject);
    // The reply is used once the worker has exited, so its memory is gone when loading returns.
    worker.once('exit', (code) => {
      if (reply === null) {
        reject(
          new Error(
            `the configuration worker exited with code ${code} without a reply; run check-config --config ${path} to see the problem`
          )
        );
      } else if (reply.ok) {
        resolve(reply.loaded);
      } else {
        reject(reply.problems ? new ConfigError(reply.problems) : new Error(reply.message));
      }
    });
  });
}

/** Returns the worker's script, the module next to this one in the compiled tree. */
function workerScript(): string {
  return fileURLToPath(new URL('./load-worker.js', import.meta.url));
}
