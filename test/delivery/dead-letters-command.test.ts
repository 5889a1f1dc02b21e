import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, registerDeadLettersCommand } from '../../src/cli/dead-letters.js';
import { configSchema } from '../../src/config/schema.js';
import { DeadLetterWriter } from '../../src/delivery/dead-letters.js';
import { makeEvent } from './harness.js';

let dir: string;
let writer: DeadLetterWriter;
let configPaths: string[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dead-letters-cli-'));
  writer = new DeadLetterWriter(dir);
  configPaths = [];
});

afterEach(async () => {
  writer.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(...args: string[]) {
  const output = { stdout: '', stderr: '' };
  const program = new Command('mfc-events-agent').exitOverride();
  registerDeadLettersCommand(program, {
    loadConfig: async (path) => {
      configPaths.push(path);
      const config = configSchema.parse({
        tracker: { appId: 1027600, token: 'unused-token', region: '88' },
        state: { dir },
        bots: [
          {
            name: 'mfc_bot',
            include: ['/var/log/bot/*.log'],
            rules: [{ event: 'appointment_open', when: { msg: 'booked' }, userId: 'user_id' }],
          },
        ],
      });
      return { config };
    },
    output: { write: (text: string) => (output.stdout += text) },
    errorOutput: { write: (text: string) => (output.stderr += text) },
  });
  await program.parseAsync(['dead-letters', ...args], { from: 'user' });
  return output;
}

function seed() {
  return [
    writer.write({
      event: makeEvent(1),
      reason: 'bad request',
      status: 400,
      body: '{"error":"Bad Request"}',
    }),
    writer.write({ event: makeEvent(2), reason: 'retries exhausted', status: 503 }),
    writer.write({
      event: { name: 'appointment_open', bot: 'mfc_bot' },
      reason: 'invalid user id',
    }),
  ];
}

async function spooledEvents(): Promise<unknown[]> {
  const names = (await readdir(join(dir, 'spool'))).filter((name) => name.endsWith('.jsonl'));
  const events: unknown[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, 'spool', name), 'utf8');
    for (const line of text.trim().split('\n')) events.push(JSON.parse(line).event);
  }
  return events;
}

describe('dead-letters list', () => {
  it('prints a table', async () => {
    const [bad, exhausted, invalid] = seed();
    const { stdout } = await run('list', '--config', '/srv/agent.yaml');

    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+WHEN\s+EVENT\s+REASON\s+STATUS$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${bad?.id}\\s+${bad?.at}\\s+appointment_cancel\\s+bad request\\s+400$`)
    );
    expect(lines[2]).toContain(`${exhausted?.id}`);
    expect(lines[2]).toMatch(/retries exhausted\s+503$/);
    expect(lines[3]).toMatch(new RegExp(`^${invalid?.id}.*invalid user id\\s+-$`));
    expect(lines[4]).toBe('3 dead letters.');
    expect(configPaths).toEqual(['/srv/agent.yaml']);
  });

  it('prints JSON', async () => {
    const entries = seed();
    const { stdout } = await run('list', '--json');

    expect(JSON.parse(stdout)).toEqual(entries);
    expect(configPaths).toEqual([DEFAULT_CONFIG_PATH]);
  });

  it('says when there are none', async () => {
    const { stdout } = await run('list');
    expect(stdout).toBe(`No dead letters in ${join(dir, 'dead-letters.jsonl')}.\n`);
  });
});

describe('dead-letters retry', () => {
  it('retries chosen ids', async () => {
    const [bad, exhausted] = seed();
    const { stdout } = await run('retry', '--id', bad?.id ?? '', exhausted?.id ?? '');

    expect(stdout).toMatch(/^Queued 2 events in .*spool\/\d+-\d+\.jsonl/);
    expect(await spooledEvents()).toEqual([makeEvent(1), makeEvent(2)]);
    const listed = await run('list', '--json');
    expect(JSON.parse(listed.stdout).map((entry: { reason: string }) => entry.reason)).toEqual([
      'invalid user id',
    ]);
  });

  it('retries by reason', async () => {
    seed();
    await run('retry', '--reason', 'retries exhausted');

    expect(await spooledEvents()).toEqual([makeEvent(2)]);
  });

  it('retries all but incomplete events', async () => {
    const [, , invalid] = seed();
    const { stdout, stderr } = await run('retry', '--all');

    expect(stdout).toContain('Queued 2 events');
    expect(stderr).toContain(
      `Dead letter ${invalid?.id} cannot be retried: its event has no valid userId, timestamp.`
    );
    expect(await spooledEvents()).toEqual([makeEvent(1), makeEvent(2)]);
    const listed = await run('list', '--json');
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  });

  it('fails on only incomplete events', async () => {
    seed();
    await expect(run('retry', '--reason', 'invalid user id')).rejects.toThrow(
      'none of the chosen dead letters can be retried'
    );
  });

  it('rejects an unknown id', async () => {
    const [bad] = seed();
    await expect(run('retry', '--id', bad?.id ?? '', 'nope-1')).rejects.toThrow(
      'no dead letter with id nope-1 (unknown or already retried)'
    );
    await expect(readdir(join(dir, 'spool'))).rejects.toThrow('ENOENT');
  });

  it('rejects an already retried id', async () => {
    const [bad] = seed();
    await run('retry', '--id', bad?.id ?? '');
    await expect(run('retry', '--id', bad?.id ?? '')).rejects.toThrow('unknown or already retried');
  });

  it('requires exactly one selector', async () => {
    seed();
    const message = 'exactly one of --all, --id ID... or --reason TEXT';
    await expect(run('retry')).rejects.toThrow(message);
    await expect(run('retry', '--all', '--reason', 'bad request')).rejects.toThrow(message);
  });

  it('rejects an unknown reason', async () => {
    seed();
    await expect(run('retry', '--reason', 'timeout')).rejects.toThrow(
      'no dead letter has the reason "timeout"'
    );
  });
});
