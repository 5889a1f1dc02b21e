// bench/sink.mjs as a child process, for figures where the sink must not share the event loop
// of the benchmark itself.

import { fileURLToPath } from 'node:url';
import { spawnTracked, stopChild } from './children.mjs';

const SINK_PATH = fileURLToPath(new URL('../sink.mjs', import.meta.url));
const START_TIMEOUT_MS = 10_000;

/**
 * Starts the sink with `delayMs` of delay per response. Resolves with `{ url, command, stop }` once it
 * listens; `stop()` ends it with SIGTERM and resolves with the results line it printed.
 */
export async function startSinkProcess({ delayMs = 0 } = {}) {
  const args = [SINK_PATH, '--delay-ms', String(delayMs)];
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text) => {
    stdout += text;
  });
  // 'exit' can come before the last stdout bytes are read; the results line needs 'end'.
  const stdoutEnded = new Promise((resolve) => child.stdout.once('end', resolve));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the sink did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr += text;
      const match = /listening on (\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.exitPromise.then(() => reject(new Error(`the sink exited early: ${stderr}`)));
  });
  return {
    url,
    command: `node ${SINK_PATH} --delay-ms ${delayMs}`,
    stop: async () => {
      await stopChild(child, 5_000);
      await stdoutEnded;
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(
          `the sink printed no results line; stdout: '${stdout}', stderr: '${stderr}'`
        );
      }
    },
  };
}
