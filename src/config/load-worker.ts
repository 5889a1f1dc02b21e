import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ConfigError } from './errors.js';
import { loadConfig } from './load.js';
import type { ConfigLoadReply, ConfigLoadRequest } from './load-in-worker.js';

/** Returns true when this thread was started by `loadConfigInWorker`. */
function isConfigWorker(): boolean {
  return !isMainThread && (workerData as ConfigLoadRequest | null)?.task === 'load-config';
}

/** Loads the requested configuration and posts the one reply; the worker then exits. */
async function serveConfigLoad(): Promise<void> {
  const request = workerData as ConfigLoadRequest;
  let reply: ConfigLoadReply;
  try {
    const loaded = await loadConfig(request.path, process.env, { readToken: request.readToken });
    reply = { ok: true, loaded };
  } catch (error) {
    reply =
      error instanceof ConfigError
        ? { ok: false, message: error.message, problems: [...error.problems] }
        : { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
}

// The worker started by `loadConfigInWorker` runs this module, which serves its request.
if (isConfigWorker()) void serveConfigLoad();
