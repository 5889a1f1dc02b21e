import { appendFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type OutboxRecord, openOutbox } from '../../src/outbox/outbox.js';
import {
  bundleChild,
  captureLogger,
  completeLines,
  makeTempDir,
  mulberry32,
  runAndKill,
} from './helpers.js';

const KILLS = 30;

/** What the child logged, run by run, in the order it happened. */
interface ChildLog {
  /** seq to user id of every record `append` returned. */
  appended: Map<number, string>;
  appendOrder: number[];
  /** The last batch each run meant to append: first counter and size. */
  lastIntent: Map<number, { from: number; size: number }>;
  /** Handouts: run, seq, user id. */
  taken: { run: number; seq: number; userId: string }[];
  /** seq to the run that acknowledged or dead-marked it. */
  done: Map<number, number>;
  /** Seqs whose acknowledgement had begun when a kill came, so they may be done or not. */
  maybeDone: Set<number>;
}

function parseChildLog(path: string): ChildLog {
  const log: ChildLog = {
    appended: new Map(),
    appendOrder: [],
    lastIntent: new Map(),
    taken: [],
    done: new Map(),
    maybeDone: new Set(),
  };
  let run = -1;
  let acking: number | null = null;
  for (const line of completeLines(path)) {
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'R') {
      if (acking !== null) log.maybeDone.add(acking);
      acking = null;
      run = Number(a);
    }
    if (kind === 'k') acking = Number(a);
    if (kind === 'I') log.lastIntent.set(run, { from: Number(b), size: Number(c) });
    if (kind === 'A') {
      expect(log.appended.has(Number(a)), `seq ${a} appended twice`).toBe(false);
      log.appended.set(Number(a), b!);
      log.appendOrder.push(Number(a));
    }
    if (kind === 'T') log.taken.push({ run, seq: Number(a), userId: b! });
    if (kind === 'K') {
      log.done.set(Number(a), run);
      acking = null;
    }
  }
  if (acking !== null) log.maybeDone.add(acking);
  return log;
}

/** Splits a child's user id back into its run and counter. */
function decodeUserId(userId: string): { run: number; counter: number } {
  return { run: Number(userId.slice(1, 5)), counter: Number(userId.slice(5)) };
}

function drain(dir: string): OutboxRecord[] {
  const { logger } = captureLogger();
  const outbox = openOutbox(dir, { maxBytes: 256 * 1024 * 1024, segmentBytes: 8192, logger });
  const records: OutboxRecord[] = [];
  for (let batch = outbox.take(1000); batch.length > 0; batch = outbox.take(1000)) {
    records.push(...batch);
  }
  outbox.close();
  return records;
}

describe('outbox under kill -9', () => {
  let bundle = '';

  beforeAll(async () => {
    const source = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.ts');
    bundle = await bundleChild(source, makeTempDir('outbox-child'));
  });

  it('loses and repeats nothing', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const random = mulberry32(seed);
    const dir = makeTempDir('outbox-crash');
    const stateDir = join(dir, 'state');
    const logPath = join(dir, 'child.log');
    writeFileSync(logPath, '');
    const stderrs: string[] = [];
    for (let run = 0; run < KILLS; run++) {
      appendFileSync(logPath, `R ${run}\n`);
      // Every fifth run is killed without waiting for ready, so some kills land during open.
      const killEarly = run % 5 === 4;
      const runMs = killEarly ? 60 + random() * 60 : 5 + random() * 60;
      stderrs.push(
        await runAndKill(
          bundle,
          [stateDir, logPath, String(run), String(seed + run)],
          runMs,
          killEarly
        )
      );
    }
    const context = `seed ${seed}; dir ${dir}; child stderr: ${stderrs.join('').slice(-2000)}`;

    const log = parseChildLog(logPath);
    const final = drain(stateDir);
    const finalSeqs = new Set(final.map((record) => record.seq));
    expect(log.appended.size, context).toBeGreaterThan(500);

    // Sequence numbers only grow, across restarts and compactions.
    for (let index = 1; index < log.appendOrder.length; index++) {
      expect(log.appendOrder[index]!, context).toBeGreaterThan(log.appendOrder[index - 1]!);
    }

    // Nothing lost: every record append returned is done or still in the outbox.
    for (const [seq, userId] of log.appended) {
      if (log.done.has(seq) || log.maybeDone.has(seq)) continue;
      expect(finalSeqs.has(seq), `seq ${seq} lost; ${context}`).toBe(true);
      expect(final.find((record) => record.seq === seq)?.event.userId).toBe(userId);
    }

    // Nothing done is handed out again, and nothing twice in one run.
    const handouts = [
      ...log.taken,
      ...final.map((record) => ({ run: KILLS, seq: record.seq, userId: record.event.userId })),
    ];
    const seenInRun = new Set<string>();
    for (const handout of handouts) {
      const key = `${handout.run}:${handout.seq}`;
      expect(
        seenInRun.has(key),
        `seq ${handout.seq} handed out twice in run ${handout.run}; ${context}`
      ).toBe(false);
      seenInRun.add(key);
      const doneIn = log.done.get(handout.seq);
      if (doneIn !== undefined) {
        expect(
          handout.run,
          `seq ${handout.seq} handed out after it was done; ${context}`
        ).toBeLessThanOrEqual(doneIn);
      }
    }

    // One seq per user id and one user id per seq: no event entered the outbox twice.
    const seqOfUser = new Map<string, number>();
    for (const { seq, userId } of handouts) {
      const known = log.appended.get(seq);
      if (known !== undefined) expect(userId, context).toBe(known);
      const previous = seqOfUser.get(userId);
      if (previous !== undefined)
        expect(seq, `user ${userId} queued twice; ${context}`).toBe(previous);
      seqOfUser.set(userId, seq);
    }

    // A record append never returned for can only be the last batch of a killed run, and whole.
    const unreported = new Set<number>();
    for (const [userId, seq] of seqOfUser) {
      if (log.appended.has(seq)) continue;
      const { run, counter } = decodeUserId(userId);
      const intent = log.lastIntent.get(run);
      expect(intent, context).toBeDefined();
      expect(
        counter,
        `user ${userId} is not in the last batch of run ${run}; ${context}`
      ).toBeGreaterThanOrEqual(intent!.from);
      expect(counter, context).toBeLessThan(intent!.from + intent!.size);
      unreported.add(run);
    }
    const knownUserIds = new Set([...log.appended.values(), ...seqOfUser.keys()]);
    for (const run of unreported.keys()) {
      const intent = log.lastIntent.get(run)!;
      let present = 0;
      for (let counter = intent.from; counter < intent.from + intent.size; counter++) {
        const userId = `9${String(run).padStart(4, '0')}${String(counter).padStart(14, '0')}`;
        if (knownUserIds.has(userId)) present++;
      }
      expect(present, `run ${run} left part of a batch; ${context}`).toBe(intent.size);
    }
  });
});
