import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  appointmentLine,
  makeTempDir,
  noiseLine,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

/** Deterministic PRNG so a failing run can be replayed from the printed seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety', () => {
  let agent: AgentProcess | null = null;
  let tracker: RecordingTracker | null = null;

  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await tracker?.stop();
  });

  it('survives repeated kill -9 under load', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    const kills = 12;
    const concurrency = 4;
    tracker = new RecordingTracker();
    await tracker.start();
    // The tracker misbehaves: some 500s, some slow responses, some dropped connections.
    tracker.answer = () => {
      const roll = random();
      if (roll < 0.1) return { status: 500, body: '{"error": "Internal Server Error"}' };
      if (roll < 0.15) return 'drop';
      if (roll < 0.3)
        return { status: 200, body: '{"message":"OK"}', delayMs: 50 + Math.floor(random() * 150) };
      return { status: 200, body: '{"message":"OK"}' };
    };
    const dir = makeTempDir('crash');
    mkdirSync(join(dir, 'logs'));
    const log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, '');
    const config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir: join(dir, 'state'),
      extra: {
        delivery: {
          concurrency,
          maxRequestsPerSecond: 1000,
          initialBackoffMs: 20,
          maxBackoffMs: 200,
          probeIntervalMs: 200,
        },
      },
    });

    let written = 0;
    const writer = setInterval(() => {
      let text = '';
      const batch = 1 + Math.floor(random() * 5);
      for (let index = 0; index < batch; index++) {
        written++;
        text += noiseLine(written) + appointmentLine(written);
      }
      appendFileSync(log, text);
    }, 15);

    try {
      for (let kill = 0; kill < kills; kill++) {
        agent = startCli(['run', '--config', config]);
        await sleep(150 + Math.floor(random() * 600));
        agent.child.kill('SIGKILL');
        await agent.exited;
      }
    } finally {
      clearInterval(writer);
    }

    tracker.answer = () => ({ status: 200, body: '{"message":"OK"}' });
    agent = startCli(['run', '--config', config]);
    await waitFor(() => tracker!.countsByUser().size >= written, `all ${written} events`, 60_000);
    await sleep(500);

    const counts = tracker.countsByUser();
    const missing: number[] = [];
    let duplicates = 0;
    for (let n = 1; n <= written; n++) {
      const seen = counts.get(String(1_000_000 + n)) ?? 0;
      if (seen === 0) missing.push(n);
      duplicates += Math.max(0, seen - 1);
    }
    console.log(
      `crash test (seed ${seed}): ${written} events written, ${kills} kills, ${tracker.accepted.length} accepted, ${missing.length} missing, ${duplicates} duplicates (limit ${kills * concurrency})`
    );
    expect(missing, `seed ${seed}`).toEqual([]);
    expect(duplicates, `seed ${seed}`).toBeLessThanOrEqual(kills * concurrency);
  }, 180_000);
});
