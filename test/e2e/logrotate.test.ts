import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  makeTempDir,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { hasLogrotate, postrotateSignal, runLogrotate } from '../helpers/logrotate.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

/**
 * A bot stand-in: appends a numbered appointment line every few ms through an O_APPEND fd and
 * reopens its log on SIGHUP, as loggers do after logrotate's `create`.
 */
const WRITER = `
import { openSync, writeSync, closeSync } from 'node:fs';
const path = process.argv[2];
let fd = openSync(path, 'a');
let n = 0;
process.on('SIGHUP', () => { closeSync(fd); fd = openSync(path, 'a'); });
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {
  for (let i = 0; i < 3; i++) {
    n++;
    const id = 5000000 + n;
    writeSync(fd, '{"level":30,"time":' + (1796000000000 + n) + ',"msg":"appointment created","userId":' + id + ',"office":"МФЦ Центральный"}\\n');
  }
}, 5);
`;

/** Collects the user ids of every appointment line that exists in the log directory now. */
function idsOnDisk(dir: string): string[] {
  const ids: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('bot.log')) continue;
    const bytes = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    for (const match of text.matchAll(/"userId":(\d+)/g)) ids.push(match[1]!);
  }
  return ids;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasLogrotate())('agent under real logrotate', () => {
  let agent: AgentProcess | null = null;
  let tracker: RecordingTracker | null = null;
  let writer: ReturnType<typeof spawn> | null = null;

  afterEach(async () => {
    writer?.kill('SIGKILL');
    agent?.child.kill('SIGKILL');
    await tracker?.stop();
  });

  for (const mode of [
    {
      name: 'create with delaycompress',
      directives: ['create', 'rotate 10', 'compress', 'delaycompress'],
    },
    {
      name: 'create with dateext',
      directives: ['create', 'rotate 10', 'dateext', 'dateformat -%s'],
    },
    {
      name: 'copytruncate',
      directives: ['copytruncate', 'rotate 10', 'compress', 'delaycompress'],
    },
  ]) {
    it(`delivers each line once: ${mode.name}`, async () => {
      tracker = new RecordingTracker();
      await tracker.start();
      const dir = makeTempDir('logrotate');
      const logs = join(dir, 'logs');
      const log = join(logs, 'bot.log');
      mkdirSync(logs);
      writeFileSync(log, '');
      writeFileSync(join(dir, 'writer.mjs'), WRITER);
      const config = writeAgentConfig(dir, {
        trackerUrl: tracker.url,
        logGlob: join(logs, 'bot.log*'),
        stateDir: join(dir, 'state'),
        bot: { exclude: ['*.gz'] },
      });

      agent = startCli(['run', '--config', config]);
      // On a loaded machine the first generation could be compressed before the first scan.
      await waitFor(() => agent!.output().includes('Agent started'), 'the agent start');
      writer = spawn(process.execPath, [join(dir, 'writer.mjs'), log], { stdio: 'ignore' });
      const directives = [...mode.directives];
      if (directives.includes('create')) directives.push(postrotateSignal(writer.pid!));

      for (let rotation = 0; rotation < 4; rotation++) {
        await sleep(300);
        await runLogrotate(dir, log, directives);
        // dateext names need a new second so that the next rotation gets its own file.
        if (mode.name.includes('dateext')) await sleep(1000);
      }
      // The agent is restarted once mid-way to prove the same across a stop.
      agent.child.kill('SIGTERM');
      await agent.exited;
      await runLogrotate(dir, log, directives);
      agent = startCli(['run', '--config', config]);
      await sleep(300);
      writer.kill('SIGTERM');
      await new Promise((resolve) => writer!.once('exit', resolve));

      const expected = idsOnDisk(logs);
      await waitFor(
        () => tracker!.countsByUser().size >= new Set(expected).size,
        `${expected.length} events`,
        30_000
      );
      await sleep(500);

      const counts = tracker.countsByUser();
      console.log(
        `${mode.name}: ${expected.length} lines on disk, ${tracker.accepted.length} events accepted`
      );
      const missing = expected.filter((id) => !counts.has(id));
      const repeated = [...counts.entries()].filter(([, seen]) => seen > 1);
      expect(new Set(expected).size).toBe(expected.length);
      expect(missing).toEqual([]);
      expect(repeated).toEqual([]);
      // Lines written between copytruncate's copy and its truncation are delivered although no
      // file keeps them, so accepted may exceed what is on disk, but never repeat an id.
      expect(tracker.accepted.length).toBe(counts.size);
      expect(existsSync(join(dir, 'state', 'state.json'))).toBe(true);
    }, 60_000);
  }
});
