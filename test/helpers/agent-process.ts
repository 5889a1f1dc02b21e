import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI_BUNDLE } from '../global-setup.js';

/** Token used by every process test; the suite greps outputs for it to prove it never leaks. */
export const TEST_TOKEN = 'test-token-5f2c9e71d04b';
export const TEST_APP_ID = 1027600;

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mfc-${prefix}-`));
}

/** Writes a configuration for one bot reading `logGlob` and delivering to `trackerUrl`. */
export function writeAgentConfig(
  dir: string,
  options: {
    trackerUrl: string;
    logGlob: string;
    stateDir: string;
    extra?: Record<string, unknown>;
    bot?: Record<string, unknown>;
  }
): string {
  const config = {
    tracker: { url: options.trackerUrl, appId: TEST_APP_ID, token: TEST_TOKEN, region: '88' },
    state: { dir: options.stateDir, flushIntervalMs: 200 },
    delivery: {
      concurrency: 4,
      maxRequestsPerSecond: 1000,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
      probeIntervalMs: 300,
    },
    partialLineTimeoutMs: 500,
    log: { level: 'info', format: 'json' },
    ...options.extra,
    bots: [
      {
        name: '@mfc_bot',
        include: [options.logGlob],
        startAt: 'beginning',
        rules: [
          {
            event: 'appointment_open',
            when: { msg: 'appointment created' },
            userId: 'userId',
            time: 'time',
          },
          {
            event: 'appointment_cancel',
            when: { msg: 'appointment cancelled' },
            userId: 'userId',
            time: 'time',
          },
        ],
        ...options.bot,
      },
    ],
  };
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

/** Returns a pino-style appointment line whose user id is derived from `n`, so each event is distinct. */
export function appointmentLine(
  n: number,
  kind: 'created' | 'cancelled' = 'created',
  userId?: string
): string {
  const id = userId ?? String(1_000_000 + n);
  const time = 1_796_000_000_000 + n * 1000;
  return `{"level":30,"time":${time},"pid":2211,"hostname":"mfc-bot-1","msg":"appointment ${kind}","userId":${id},"chatId":${id},"service":"Замена паспорта РФ","seq":${n}}\n`;
}

export function noiseLine(n: number): string {
  return `{"level":30,"time":${1_796_000_000_000 + n},"pid":2211,"hostname":"mfc-bot-1","msg":"message sent","chatId":${n},"text":"Выберите отделение МФЦ"}\n`;
}

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI as a real child process; stdout and stderr are collected together. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): AgentProcess {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  // Every process test checks its full output for the token, crash output included.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on('close', (code, signal) => {
        if (output.includes(TEST_TOKEN))
          reject(new Error(`the token leaked into the output:\n${output}`));
        else resolve({ code, signal });
      });
    }
  );
  return { child, output: () => output, exited };
}

/** Polls `check` every 20 ms until it returns true, or fails after `timeoutMs` with `what`. */
export async function waitFor(
  check: () => boolean,
  what: string,
  timeoutMs = 20_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
