import { appendFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../../src/outbox/outbox.js';
import { loadState } from '../../src/state/checkpoint-store.js';
import {
  bundleChild,
  captureLogger,
  completeLines,
  makeTempDir,
  mulberry32,
  runAndKill,
} from '../outbox/helpers.js';

const KILLS = 20;
const LINE_BYTES = 10;

/** Returns the line number of the last save begun (`S`) and completed (`D`) in the log. */
function lastSaves(logPath: string): { begun: number; completed: number } {
  let begun = 0;
  let completed = 0;
  for (const line of completeLines(logPath)) {
    const [kind, value] = line.split(' ');
    if (kind === 'S') begun = Number(value);
    if (kind === 'D') completed = Number(value);
  }
  return { begun, completed };
}

describe('state under kill -9', () => {
  let bundle = '';

  beforeAll(async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'save-child.ts');
    bundle = await bundleChild(source, makeTempDir('state-child'));
  });

  it('always leaves a loadable state', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    const dir = makeTempDir('state-crash');
    const stateDir = join(dir, 'state');
    const logPath = join(dir, 'child.log');
    writeFileSync(logPath, '');
    const { logger, lines } = captureLogger();

    for (let run = 0; run < KILLS; run++) {
      appendFileSync(logPath, `R ${run}\n`);
      const stderr = await runAndKill(bundle, [stateDir, logPath], 5 + random() * 40);
      const context = `seed ${seed}, run ${run}; child stderr: ${stderr.slice(-1500)}`;

      const state = loadState(stateDir, logger);
      const saves = lastSaves(logPath);
      expect(state.source, context).toBe('current');
      expect(state.savedAt, context).toBeGreaterThanOrEqual(saves.completed);
      expect(state.savedAt, context).toBeLessThanOrEqual(saves.begun);
      expect(state.files, context).toHaveLength(1);
      expect(state.files[0]!.offset, context).toBe(state.savedAt! * LINE_BYTES);
    }
    expect(lines.filter((line) => line.level === 40)).toEqual([]);

    // Every line was queued exactly once, across all restarts.
    const outbox = openOutbox(stateDir, { maxBytes: 64 * 1024 * 1024, logger });
    const userIds: string[] = [];
    for (let batch = outbox.take(1000); batch.length > 0; batch = outbox.take(1000)) {
      userIds.push(...batch.map((record) => record.event.userId));
    }
    outbox.close();
    const lineNumbers = userIds.map((userId) => Number(userId) - 1_000_000);
    const duplicates = lineNumbers.filter((line, index) => lineNumbers.indexOf(line) !== index);
    expect(duplicates, `seed ${seed}`).toEqual([]);
    const queued = new Set(lineNumbers);
    const highest = Math.max(...lineNumbers);
    const missing = Array.from({ length: highest + 1 }, (_, line) => line).filter(
      (line) => !queued.has(line)
    );
    expect(missing, `seed ${seed}`).toEqual([]);
    expect(highest + 1).toBeGreaterThanOrEqual(lastSaves(logPath).completed);
  });
});
