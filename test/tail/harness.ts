import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { type BotConfig, botSchema } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { OutboxFullError } from '../../src/outbox/outbox.js';
import { type ChunkResult, createLineProcessor } from '../../src/rules/line-processor.js';
import { CheckpointBook } from '../../src/state/checkpoint-book.js';
import { loadState } from '../../src/state/checkpoint-store.js';
import {
  createTailService,
  type EventSink,
  type TailService,
  type TailServiceOptions,
} from '../../src/tail/tail-service.js';

/** Creates a fresh directory under the system temp dir; `removeDir` deletes it. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `mfc-tail-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** User ids are `USER_ID_BASE + n` for event `n`, because the tracker takes no id 0. */
export const USER_ID_BASE = 1_000_000;

/** Returns the JSON line of numbered event `n`, so deliveries can be counted per event. */
export function eventLine(n: number): string {
  const record = {
    time: 1_760_000_000 + n,
    level: 'info',
    msg: 'appointment created',
    userId: USER_ID_BASE + n,
  };
  return `${JSON.stringify(record)}\n`;
}

/** Returns a line that no rule matches. */
export function noiseLine(n: number): string {
  return `${JSON.stringify({ time: 1_760_000_000 + n, msg: 'menu opened', userId: n })}\n`;
}

export function appendEvents(path: string, from: number, count: number): void {
  let text = '';
  for (let n = from; n < from + count; n++) text += eventLine(n);
  appendFileSync(path, text);
}

/** Builds a bot that turns `appointment created` lines of `include` into events. */
export function makeBot(
  include: string[],
  extra: Partial<Record<string, unknown>> = {}
): BotConfig {
  return botSchema.parse({
    name: '@mfc_bot',
    include,
    startAt: 'beginning',
    rules: [
      {
        event: 'appointment_open',
        when: { msg: 'appointment created' },
        userId: 'userId',
        time: 'time',
      },
    ],
    ...extra,
  });
}

/** One delivered event with where it came from. */
export interface Delivered {
  userId: string;
  fileKey: string;
  offset: number;
  end: number;
}

/**
 * A sink that records every event, and can be made full: while `full` is set, `append`
 * throws OutboxFullError, as the real outbox does.
 */
export class RecordingSink implements EventSink {
  readonly delivered: Delivered[] = [];
  full = false;
  /** Becomes full after this many successful appends, when set. */
  fullAfterAppends: number | null = null;
  private appends = 0;
  private spaceCallbacks: (() => void)[] = [];

  append(fileKey: string, result: ChunkResult): void {
    if (this.full) throw new OutboxFullError('/test/outbox', 100, 100);
    for (const found of result.events) {
      this.delivered.push({
        userId: found.event.userId,
        fileKey,
        offset: found.offset,
        end: found.end,
      });
    }
    this.appends++;
    if (this.fullAfterAppends !== null && this.appends >= this.fullAfterAppends) this.full = true;
  }

  isFull(): boolean {
    return this.full;
  }

  onceSpace(callback: () => void): void {
    this.spaceCallbacks.push(callback);
  }

  /** Frees space and calls the waiting callbacks, like the outbox's `space` event. */
  makeSpace(): void {
    this.full = false;
    this.fullAfterAppends = null;
    const callbacks = this.spaceCallbacks;
    this.spaceCallbacks = [];
    for (const callback of callbacks) callback();
  }

  /** Times each user id was delivered. */
  counts(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const { userId } of this.delivered) {
      const n = Number(userId) - USER_ID_BASE;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return counts;
  }
}

/** Collects log lines (as parsed JSON) written through the logger. */
export class LogCapture {
  readonly records: Record<string, unknown>[] = [];
  readonly logger: Logger;

  constructor() {
    const records = this.records;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim().length > 0) records.push(JSON.parse(line) as Record<string, unknown>);
        }
        callback();
      },
    });
    // TAIL_DEBUG=1 also keeps the per-read trace lines, for replaying a failed model run.
    const level = process.env.TAIL_DEBUG ? 'trace' : 'debug';
    this.logger = createLogger({ level, format: 'json', destination });
  }

  messages(): string[] {
    return this.records.map((record) => String(record.msg));
  }
}

/** Everything one test's services share: state dir, book, sink, metrics, logs. */
export class TailHarness {
  book: CheckpointBook;
  readonly sink = new RecordingSink();
  readonly metrics: Metrics = createMetrics();
  readonly logs = new LogCapture();
  readonly services: TailService[] = [];

  constructor(readonly stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.book = new CheckpointBook({ dir: stateDir, files: [], logger: this.logs.logger });
  }

  /** Starts a tail service for `bot` with test-friendly timings. */
  async start(bot: BotConfig, options: Partial<TailServiceOptions> = {}): Promise<TailService> {
    const service = createTailService({
      bot,
      book: this.book,
      sink: this.sink,
      createProcessor: () =>
        createLineProcessor(bot, {
          eventTypes: ['appointment_open', 'appointment_cancel'],
          futureToleranceMs: 300_000,
          maxEventAgeMs: 100 * 365 * 86_400_000,
        }),
      logger: this.logs.logger,
      metrics: this.metrics,
      partialLineTimeoutMs: 300,
      mode: 'follow',
      rescanIntervalMs: 250,
      releaseQuietMs: 400,
      ...options,
    });
    this.services.push(service);
    await service.start();
    return service;
  }

  /** Saves the checkpoints and loads them into a new book, as a restarted agent does. */
  reloadBook(): void {
    this.book.save();
    const state = loadState(this.stateDir, this.logs.logger);
    this.book = new CheckpointBook({
      dir: this.stateDir,
      files: state.files,
      logger: this.logs.logger,
    });
  }

  async stopAll(): Promise<void> {
    for (const service of this.services.splice(0)) await service.stop();
  }
}

/** Polls `condition` every 20 ms until it is true or `timeoutMs` passes; returns its value. */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(20);
  }
  return condition();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Lists what is wrong with the deliveries of events `0 .. count - 1`: missing ones, ones
 * delivered more than once, and unexpected ones. Empty when each was delivered exactly once.
 */
export function deliveryProblems(sink: RecordingSink, expected: Iterable<number>): string[] {
  const counts = sink.counts();
  const problems: string[] = [];
  const wanted = new Set(expected);
  for (const n of wanted) {
    const times = counts.get(n) ?? 0;
    if (times !== 1) problems.push(`event ${n} delivered ${times} times`);
  }
  for (const n of counts.keys()) if (!wanted.has(n)) problems.push(`unexpected event ${n}`);
  return problems;
}

/** Lists the event numbers in the `prefix*` files of `dir`, `.gz` ones decompressed. */
export function eventsOnDisk(dir: string, prefix: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const bytes = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    for (const match of text.matchAll(/"userId":(\d+)/g))
      found.push(Number(match[1]) - USER_ID_BASE);
  }
  return found;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, index) => from + index);
}
