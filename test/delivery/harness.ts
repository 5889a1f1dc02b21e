import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type DeliveryConfig,
  deliverySchema,
  type TrackerConfig,
  trackerSchema,
} from '../../src/config/schema.js';
import { DeadLetterWriter, readDeadLetters } from '../../src/delivery/dead-letters.js';
import { createDispatcher, type Dispatcher } from '../../src/delivery/dispatcher.js';
import type { TrackerEvent } from '../../src/events/event.js';
import {
  type MockTracker,
  type MockTrackerOptions,
  startMockTracker,
} from '../../src/mock-tracker/server.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { type Outbox, openOutbox } from '../../src/outbox/outbox.js';

export const APP_ID = 1027600;
export const TOKEN = 'secret-token-5d1e9c';

/** Delivery settings small enough for tests: backoffs of tens of ms, a fast probe. */
export const FAST_DELIVERY: Partial<DeliveryConfig> = {
  initialBackoffMs: 20,
  maxBackoffMs: 200,
  probeIntervalMs: 200,
  maxRequestsPerSecond: 1000,
};

/** Log lines captured as parsed objects, plus the raw text to search for leaks. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  text = '';
  readonly logger: Logger;

  constructor() {
    const destination = new Writable({
      write: (chunk, _encoding, callback) => {
        const text = chunk.toString();
        this.text += text;
        for (const line of text.split('\n'))
          if (line.trim() !== '') this.lines.push(JSON.parse(line));
        callback();
      },
    });
    this.logger = createLogger({ level: 'debug', format: 'json', destination });
  }

  /** Lines at `level` (pino numbers: 40 warn, 50 error). */
  at(level: number): Record<string, unknown>[] {
    return this.lines.filter((line) => line.level === level);
  }
}

export function makeEvent(index: number, overrides: Partial<TrackerEvent> = {}): TrackerEvent {
  return {
    name: index % 2 === 0 ? 'appointment_open' : 'appointment_cancel',
    userId: String(1_806_900 + index),
    timestamp: 1_773_846_500 + index,
    bot: 'mfc_bot',
    ...overrides,
  };
}

/** A dispatcher wired to a real outbox, dead-letter file and mock tracker in a fresh temp dir. */
export class Harness {
  readonly logs = new LogCapture();
  readonly metrics: Metrics = createMetrics();
  outbox!: Outbox;
  deadLetters!: DeadLetterWriter;
  tracker!: MockTracker;
  dispatcher!: Dispatcher;
  trackerConfig!: TrackerConfig;
  deliveryConfig!: DeliveryConfig;
  private constructor(readonly dir: string) {}

  static async start(
    options: {
      respond?: MockTrackerOptions['respond'];
      delivery?: Partial<DeliveryConfig>;
      /** Replaces the mock's URL, for a closed port. */
      url?: string;
      /** Replaces the path of the mock's URL, for a wrong API version or method. */
      path?: string;
      token?: string;
      events?: TrackerEvent[];
    } = {}
  ): Promise<Harness> {
    const harness = new Harness(await mkdtemp(join(tmpdir(), 'delivery-')));
    harness.tracker = await startMockTracker({
      appId: APP_ID,
      token: TOKEN,
      ...(options.respond ? { respond: options.respond } : {}),
    });
    harness.outbox = openOutbox(harness.dir, {
      maxBytes: 16 * 1024 * 1024,
      logger: harness.logs.logger,
    });
    harness.deadLetters = new DeadLetterWriter(harness.dir);
    if (options.events && options.events.length > 0) harness.append(options.events);
    harness.trackerConfig = trackerSchema.parse({
      url:
        options.url ?? new URL(options.path ?? '/v1/customEvent/', harness.tracker.url).toString(),
      appId: APP_ID,
      region: '88',
      timeoutMs: 2000,
    });
    harness.deliveryConfig = deliverySchema.parse({ ...FAST_DELIVERY, ...options.delivery });
    harness.dispatcher = createDispatcher({
      outbox: harness.outbox,
      tracker: harness.trackerConfig,
      token: options.token ?? TOKEN,
      delivery: harness.deliveryConfig,
      deadLetters: harness.deadLetters,
      logger: harness.logs.logger,
      metrics: harness.metrics,
    });
    return harness;
  }

  append(events: TrackerEvent[]): void {
    this.outbox.append(events.map((event) => ({ event, source: null })));
  }

  /** Reopens the outbox after `stop`, to see which records a restart would send again. */
  reopenPending(): TrackerEvent[] {
    this.outbox.close();
    this.outbox = openOutbox(this.dir, { maxBytes: 16 * 1024 * 1024, logger: this.logs.logger });
    return this.outbox.take(1000).map((record) => record.event);
  }

  readDeadLetters() {
    return readDeadLetters(this.dir);
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await this.metrics.registry.getSingleMetric(`mfc_agent_${name}`)?.get();
    const value = metric?.values.find((entry) =>
      Object.entries(labels).every(([key, expected]) => String(entry.labels[key]) === expected)
    );
    return value?.value ?? 0;
  }

  async close(): Promise<void> {
    await this.dispatcher.stop(1000);
    await this.tracker.close();
    this.outbox.close();
    this.deadLetters.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Polls `check` every 10 ms until it returns true, failing after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  timeoutMs = 5000,
  what = 'condition'
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
