import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TOKEN = 'cli-token-91ab';
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mock-tracker-cli-'));
  bundle = join(dir, 'cli.mjs');
  // Everything is bundled, so the child process needs no node_modules next to the temp dir.
  await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), 'cli-entry.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // commander is CommonJS: its require calls need a real require inside the ES module.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[]) {
  const child = spawn(process.execPath, [bundle, 'mock-tracker', ...args], { stdio: 'pipe' });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function waitForOutput(read: () => string, pattern: RegExp, child: ChildProcess) {
  const deadline = Date.now() + 10_000;
  while (!pattern.test(read())) {
    if (Date.now() > deadline || child.exitCode !== null) {
      throw new Error(`no output matching ${pattern}; got: ${read()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pattern.exec(read()) as RegExpExecArray;
}

describe('mock-tracker command', () => {
  it('prints events until SIGTERM', async () => {
    const record = join(dir, 'received.jsonl');
    const { child, output, exited } = run([
      '--port',
      '0',
      '--app-id',
      '1027600',
      '--token',
      TOKEN,
      '--record',
      record,
    ]);
    const [, url] = await waitForOutput(() => output.stdout, /listening on (\S+)/, child);

    const body =
      '{"customUserId":"9007199254740993","customEventName":"appointment_open",' +
      '"customEventParams":{"bot_name":"mfc_bot","region":"88"},"eventTimestamp":1773846503}';
    const accepted = await request(`${url}?idApp=1027600`, {
      method: 'POST',
      headers: { authorization: TOKEN, 'content-type': 'application/json' },
      body,
    });
    expect(accepted.statusCode).toBe(200);
    await accepted.body.text();
    const rejected = await request(`${url}?idApp=1027600`, { method: 'POST', body });
    expect(rejected.statusCode).toBe(403);
    await rejected.body.text();

    const line = await waitForOutput(() => output.stdout, /accepted .*\n/, child);
    expect(line[0]).toContain('appointment_open user 9007199254740993 bot mfc_bot region 88');
    expect(line[0]).toContain('at 2026-03-18T15:08:23.000Z');
    await waitForOutput(() => output.stderr, /rejected 403 Forbidden/, child);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.stdout).toContain('stopped after 1 accepted events');
    expect(output.stdout + output.stderr).not.toContain(TOKEN);
    const recorded = JSON.parse((await readFile(record, 'utf8')).trim());
    expect(recorded.body.customUserId).toBe('9007199254740993');
  });

  it('rejects an invalid port', async () => {
    const { output, exited } = run(['--port', 'http', '--app-id', '1027600', '--token', TOKEN]);
    expect(await exited).not.toBe(0);
    expect(output.stderr).toContain("option '--port <n>' argument 'http' is invalid");
    expect(output.stderr).toContain('expected a whole number from 0 to 65535');
  });

  it('requires the app id', async () => {
    const { output, exited } = run(['--port', '0', '--token', TOKEN]);
    expect(await exited).not.toBe(0);
    expect(output.stderr).toContain("required option '--app-id <id>' not specified");
  });
});
