import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';

/** Token written into test configurations; outputs are searched for it to prove it never shows. */
export const SECRET_TOKEN = 'tok-9f3a61c2e8d7';

/** A fresh temporary directory, removed by the returned cleanup function. */
export async function makeConfigDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mfc-config-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `lines` joined by newlines to `dir/name` and returns the file's path. */
export async function writeLines(dir: string, name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** The valid configuration that error cases start from; line numbers are in the comments. */
export function validLines(): string[] {
  return [
    'tracker:', // 1
    '  url: http://127.0.0.1:9/v1/customEvent/', // 2
    '  appId: 1027600', // 3
    `  token: ${SECRET_TOKEN}`, // 4
    '  region: "88"', // 5
    'state:', // 6
    '  dir: ./state', // 7
    'bots:', // 8
    '  - name: mfc_bot', // 9
    '    include: ["logs/*.log"]', // 10
    '    rules:', // 11
    '      - event: appointment_open', // 12
    '        when: { msg: "appointment created" }', // 13
    '        userId: userId', // 14
    '        time: time', // 15
  ];
}

/** Returns `lines` with line `lineNumber` (1-based) replaced by `replacement` lines. */
export function replaceLine(
  lines: string[],
  lineNumber: number,
  ...replacement: string[]
): string[] {
  const copy = [...lines];
  copy.splice(lineNumber - 1, 1, ...replacement);
  return copy;
}

/** Awaits a load that must fail and returns its ConfigError. */
export async function expectConfigError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}
