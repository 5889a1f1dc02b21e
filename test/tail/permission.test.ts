import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, expect, test } from 'vitest';
import { canRunAsNobody } from '../helpers/unprivileged.js';
import { eventLine, makeTempDir, range, removeDir, waitFor } from './harness.js';

const testDir = dirname(fileURLToPath(import.meta.url));
/** Under the repository so the bundle finds node_modules; build-test/ is ignored by git. */
const CHILD_BUNDLE = join(testDir, '..', '..', 'build-test', 'tail-permission-child.mjs');
/** The conventional unprivileged user; root ignores file modes, so the child runs as it. */
const NOBODY = 65534;

let dir = '';
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  if (dir) await removeDir(dir);
});

function events(from: number, to: number): string {
  return range(from, to).map(eventLine).join('');
}

// Needs root, and a checkout that the unprivileged user can read.
test.skipIf(!canRunAsNobody())('unreadable file retried on rescan', async () => {
  await build({
    entryPoints: [join(testDir, 'fixtures', 'permission-child.ts')],
    outfile: CHILD_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  dir = await makeTempDir('permission');
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, 'open.log'), events(10, 15), { mode: 0o644 });
  writeFileSync(join(dir, 'locked.log'), events(0, 5), { mode: 0o000 });

  let latest: { delivered: number[]; messages: string[] } = { delivered: [], messages: [] };
  child = spawn(process.execPath, [CHILD_BUNDLE, dir], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop()!;
    if (lines.length > 0) latest = JSON.parse(lines.at(-1)!);
  });

  expect(await waitFor(() => latest.delivered.length === 5, 10_000)).toBe(true);
  // Several rescans pass while the file stays unreadable: one warning, not one per rescan.
  await new Promise((resolve) => setTimeout(resolve, 800));
  const denied = latest.messages.filter((message) =>
    message.startsWith('Cannot open a log file: permission denied')
  );
  expect(denied).toHaveLength(1);
  expect(latest.delivered).toEqual(range(10, 15));

  chmodSync(join(dir, 'locked.log'), 0o644);
  expect(await waitFor(() => latest.delivered.length === 10, 5000)).toBe(true);
  expect(latest.delivered).toEqual([...range(0, 5), ...range(10, 15)]);
  expect(latest.messages).toContain('Log file is readable again.');
});
