import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import pino from 'pino';
import type { TrackerEvent } from '../../src/events/event.js';
import type { Logger } from '../../src/observability/logger.js';

/** A logger that keeps every line it writes, parsed, for assertions. */
export interface CapturedLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
  messages(level: 'info' | 'warn' | 'error'): string[];
}

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

export function captureLogger(): CapturedLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (text: string) => lines.push(JSON.parse(text) as Record<string, unknown>) }
  );
  return {
    logger,
    lines,
    messages: (level) =>
      lines.filter((line) => line.level === LEVELS[level]).map((line) => String(line.msg)),
  };
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mfc-${prefix}-`));
}

/** Returns an event whose user id encodes `n`, so each record is distinct. */
export function sampleEvent(n: number, userId = String(1_000_000 + n)): TrackerEvent {
  return { name: 'appointment_open', userId, timestamp: 1_773_846_503 + n, bot: 'mfc_bot' };
}

/**
 * Bundles a TypeScript child script to a temp `.mjs` runnable with plain node. Packages are bundled
 * in too, because the temp directory has no node_modules to resolve them from.
 */
export async function bundleChild(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'child.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // Bundled CommonJS packages call require(); ESM output needs one made for it.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  return outfile;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Deterministic PRNG so a failing run can be replayed from the printed seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts `node bundle ...args`, waits until it writes `ready` to stdout (unless `killEarly`), lets
 * it run `runMs` more, and kills it with SIGKILL. Returns its stderr for failure messages.
 */
export async function runAndKill(
  bundle: string,
  args: string[],
  runMs: number,
  killEarly = false
): Promise<string> {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (!killEarly) {
    // Settling is once only, so the rejection on the later kill is ignored.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', () => reject(new Error(`child exited before it was ready: ${stderr}`)));
    });
  }
  await sleep(runMs);
  child.kill('SIGKILL');
  await exited;
  return stderr;
}

/** Returns the complete lines of a file; a last line cut short by a kill is left out. */
export function completeLines(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  lines.pop();
  return lines;
}
