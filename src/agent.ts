import { mkdirSync } from 'node:fs';
import type { LoadedConfig } from './config/load.js';
import { checkSecretPermissions } from './config/permissions.js';
import type { AgentConfig, BotConfig } from './config/schema.js';
import { DeadLetterWriter } from './delivery/dead-letters.js';
import { createDispatcher, type Dispatcher } from './delivery/dispatcher.js';
import { checkLogAccess } from './discovery/access-check.js';
import { createEventSink, type EventTimeWindow } from './event-sink.js';
import { assessReadiness } from './observability/health.js';
import { startObservabilityServer } from './observability/http-server.js';
import type { Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { DeferredSpool, recoverDeferredSpools } from './outbox/deferred-spool.js';
import { type Outbox, type OutboxRecord, openOutbox } from './outbox/outbox.js';
import { createLineProcessor } from './rules/line-processor.js';
import { CheckpointBook } from './state/checkpoint-book.js';
import { loadState } from './state/checkpoint-store.js';
import { acquireStateLock, type StateLock } from './state/lock.js';
import { assertStateDirOwner } from './state/owner-check.js';
import { StatusReporter, type StatusSnapshotInput } from './status-reporter.js';
import { createTailService, type TailService } from './tail/tail-service.js';

export interface AgentOptions {
  loaded: LoadedConfig;
  logger: Logger;
  /** `follow` keeps reading until stopped; `once` reads every file to its current end. */
  mode: 'follow' | 'once';
  /** Also read rotated `.gz` generations (backfill). */
  includeCompressed?: boolean;
  /** Only events inside this window are queued (backfill). */
  window?: EventTimeWindow;
  metrics?: Metrics;
  /** Called for every event the tracker acknowledged, after it is recorded. */
  onAcknowledged?: (record: OutboxRecord) => void;
}

export type OnceResult = { ok: true } | { ok: false; reason: string };

/** Maximum interval between two refreshes of status.json while nothing changes, in ms. */
const STATUS_REFRESH_MS = 10_000;

/** How often spool files written by `dead-letters retry` are moved into the outbox. */
const SPOOL_INTERVAL_MS = 5000;

/**
 * Wires the pipeline: state and lock first, then the outbox and delivery, then one tail service
 * per bot. Stops in reverse order so that reading ends before the last checkpoint is saved.
 */
export class Agent {
  readonly metrics: Metrics;
  private config: AgentConfig;
  private token: string;
  private readonly logger: Logger;
  private readonly tails = new Map<string, { bot: BotConfig; service: TailService }>();
  private lock: StateLock | null = null;
  private outbox!: Outbox;
  private book!: CheckpointBook;
  private deadLetters!: DeadLetterWriter;
  private dispatcher!: Dispatcher;
  private status!: StatusReporter;
  private observability: { close(): Promise<void> } | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private spoolTimer: NodeJS.Timeout | null = null;
  private stateError: string | null = null;
  private stopping: Promise<void> | null = null;
  private lastFiles: StatusSnapshotInput['files'] = [];
  /** Events a backfill found after its `--until`, kept for the next `run`. */
  private deferred: DeferredSpool | null = null;
  private lastStatusSignature = '';
  private lastStatusAt = 0;

  private constructor(private readonly options: AgentOptions) {
    this.config = options.loaded.config;
    this.token = options.loaded.token;
    this.logger = options.logger;
    this.metrics = options.metrics ?? createMetrics();
  }

  /** Starts every stage; resolves once the files are being read. */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = new Agent(options);
    try {
      await agent.open();
    } catch (error) {
      await agent.stop().catch(() => undefined);
      throw error;
    }
    return agent;
  }

  private async open(): Promise<void> {
    const { config, logger } = this;
    const stateDir = config.state.dir;
    mkdirSync(stateDir, { recursive: true, mode: 0o750 });
    assertStateDirOwner(stateDir, this.options.window ? 'backfill' : 'run');
    this.lock = acquireStateLock(stateDir, logger);

    const state = loadState(stateDir, logger);
    this.outbox = openOutbox(stateDir, { maxBytes: config.outbox.maxBytes, logger });
    this.deadLetters = new DeadLetterWriter(stateDir);
    this.book = new CheckpointBook({
      dir: stateDir,
      files: state.files,
      startedBots: state.bots ?? [],
      logger,
      // Everything queued for the lines behind a checkpoint is durable before the checkpoint is.
      beforeSave: () => {
        this.outbox.sync();
        this.deadLetters.sync();
        this.deferred?.sync();
      },
      afterSave: () => this.outbox.compact(),
    });
    this.book.reconcile(this.outbox.highWaterMarks());
    this.status = new StatusReporter(stateDir);

    this.dispatcher = createDispatcher({
      outbox: this.outbox,
      tracker: config.tracker,
      token: this.token,
      delivery: config.delivery,
      deadLetters: this.deadLetters,
      logger,
      metrics: this.metrics,
      onAcknowledged: (record) => {
        this.status.countAcknowledged(record.event.name);
        this.options.onAcknowledged?.(record);
      },
    });
    const recovered = recoverDeferredSpools(stateDir);
    if (recovered > 0)
      logger.info({ files: recovered }, 'Completed spool files left by a killed backfill.');
    // A backfill leaves the spool to `run`, because it contains the events dated after its window.
    const isBackfill = this.options.window !== undefined;
    if (isBackfill) this.deferred = new DeferredSpool(stateDir);
    else this.outbox.ingestSpool();
    this.dispatcher.start();

    if (config.metrics.enabled) {
      this.observability = await startObservabilityServer({
        listen: config.metrics.listen,
        metrics: this.metrics,
        health: () => this.readiness(),
        logger,
      });
    }

    for (const warning of checkSecretPermissions(this.options.loaded)) {
      logger.warn({ config: this.options.loaded.path }, warning);
    }
    for (const problem of await checkLogAccess(config.bots)) {
      const fields = { bot: problem.bot, path: problem.path };
      if (problem.severity === 'error') logger.error(fields, problem.message);
      else logger.warn(fields, problem.message);
    }
    for (const bot of config.bots) await this.startBot(bot);

    this.flushTimer = setInterval(() => this.flush(), config.state.flushIntervalMs);
    if (!isBackfill) this.spoolTimer = setInterval(() => this.ingestSpool(), SPOOL_INTERVAL_MS);
    // In follow mode the flush timer keeps the process alive even when no file or watcher does
    // (an unreadable log directory, say), so rescans go on until the operator fixes it.
    if (this.options.mode === 'once') this.flushTimer.unref();
    this.spoolTimer?.unref();
    logger.info(
      {
        stateDir,
        bots: config.bots.map((bot) => bot.name),
        mode: this.options.mode,
        tracker: config.tracker.url,
      },
      'Agent started.'
    );
  }

  private async startBot(bot: BotConfig): Promise<void> {
    const { config } = this;
    const sink = createEventSink({
      bot,
      outbox: this.outbox,
      deadLetters: this.deadLetters,
      logger: this.logger,
      metrics: this.metrics,
      ...(this.options.window ? { window: this.options.window } : {}),
      ...(this.deferred ? { deferred: this.deferred } : {}),
    });
    const processorOptions = {
      eventTypes: config.tracker.events,
      futureToleranceMs: config.futureToleranceMs,
      maxEventAgeMs: config.maxEventAgeMs,
      // Line counts feed only the metrics, and counting costs about a quarter of a catch-up.
      countLines: config.metrics.enabled,
    };
    const service = createTailService({
      // A backfill reads files it has never seen from their start, whatever the value of startAt.
      bot: this.options.includeCompressed ? { ...bot, startAt: 'beginning' } : bot,
      book: this.book,
      sink,
      createProcessor: () => createLineProcessor(bot, processorOptions),
      logger: this.logger.child({ bot: bot.name }),
      metrics: this.metrics,
      partialLineTimeoutMs: config.partialLineTimeoutMs,
      mode: this.options.mode,
      includeCompressed: this.options.includeCompressed ?? false,
    });
    this.tails.set(bot.name, { bot, service });
    await service.start();
  }

  /** Saves checkpoints when they changed and refreshes the status snapshot. */
  private flush(): void {
    const saving = this.book.isDirty || this.outbox.isFull();
    // A full outbox needs a save too: compaction runs only after one, and it is what frees space.
    if (saving) {
      try {
        this.book.save();
        if (this.stateError !== null) {
          this.logger.info(
            { stateDir: this.config.state.dir },
            'State directory is writable again.'
          );
        }
        this.stateError = null;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (this.stateError === null) {
          this.logger.error(
            { stateDir: this.config.state.dir, err: message },
            'Saving checkpoints failed; the last saved state stays valid and saving is retried.'
          );
          this.status.recordError(message);
        }
        this.stateError = message;
      }
    }
    // Building the snapshot of hundreds of files every second is most of an idle agent's work,
    // so it is built only when something it shows may have changed, or every STATUS_REFRESH_MS.
    const signature = this.statusSignature();
    const now = Date.now();
    if (
      saving ||
      signature !== this.lastStatusSignature ||
      now - this.lastStatusAt >= STATUS_REFRESH_MS
    ) {
      this.lastStatusSignature = signature;
      this.lastStatusAt = now;
      this.writeStatus();
    }
  }

  /** Returns a cheap digest of the delivery and outbox figures that status.json shows. */
  private statusSignature(): string {
    const health = this.dispatcher.health();
    const stats = this.outbox.stats();
    return `${health.state}|${health.reason}|${health.lastSuccessAt}|${health.lastError}|${stats.events}|${stats.bytes}|${this.stateError}`;
  }

  private ingestSpool(): void {
    try {
      const moved = this.outbox.ingestSpool();
      if (moved > 0)
        this.logger.info({ events: moved }, 'Moved retried dead letters into the outbox.');
    } catch (error) {
      this.logger.error({ err: error }, 'Reading the spool of retried dead letters failed.');
    }
  }

  private writeStatus(force = false): void {
    const files = this.tails.size > 0 ? this.listFiles() : this.lastFiles;
    this.lastFiles = files;
    const delivery = this.dispatcher.health();
    if (delivery.lastError) this.status.recordError(delivery.lastError);
    try {
      this.status.write(
        {
          delivery,
          outbox: { ...this.outbox.stats(), full: this.outbox.isFull() },
          files,
          deadLetters: this.deadLetters.count(),
        },
        force
      );
    } catch (error) {
      // The snapshot is informational; a failure here must not stop reading or delivery.
      this.logger.debug({ err: error }, 'Writing status.json failed.');
    }
  }

  private listFiles(): StatusSnapshotInput['files'] {
    return [...this.tails.values()].flatMap(({ bot, service }) =>
      service.files().map((file) => ({ bot: bot.name, ...file }))
    );
  }

  /** Readiness for `/ready`: delivering normally, or the reasons why not. */
  readiness() {
    return assessReadiness({
      delivery: this.dispatcher.health(),
      outboxFull: this.outbox.isFull(),
      stateWritable: this.stateError === null,
      ...(this.stateError === null ? {} : { stateError: this.stateError }),
    });
  }

  /**
   * Reads every file to its current end, then waits until every queued event is acknowledged.
   * Fails when delivery pauses on a rejection or the tracker stays unreachable for `giveUpAfterMs`.
   */
  runOnce(giveUpAfterMs: number): Promise<OnceResult> {
    return this.waitCaughtUp(giveUpAfterMs);
  }

  /** Resolves once every file was read to its current end and every queued event acknowledged. */
  async waitCaughtUp(giveUpAfterMs: number): Promise<OnceResult> {
    const deadLettersBefore = this.deadLetters.count();
    await Promise.all([...this.tails.values()].map(({ service }) => service.drain()));
    this.flush();
    const result = await this.dispatcher.drained({ giveUpAfterMs });
    this.flush();
    if (!result.ok) return result;
    // An event moved to the dead letters was not delivered either.
    const deadLettered = this.deadLetters.count() - deadLettersBefore;
    if (deadLettered > 0) {
      return {
        ok: false,
        reason: `${deadLettered} event(s) went to the dead letters (see: mfc-events-agent dead-letters list)`,
      };
    }
    return result;
  }

  /**
   * Applies a new configuration: tracker and delivery settings at once, bots whose settings
   * changed are restarted from their checkpoints. The state directory cannot change.
   */
  async reload(loaded: LoadedConfig): Promise<void> {
    const next = loaded.config;
    if (next.state.dir !== this.config.state.dir) {
      throw new Error(
        `state.dir cannot change on reload (${this.config.state.dir} -> ${next.state.dir}); restart the agent to use another state directory`
      );
    }
    this.dispatcher.reconfigure(next.tracker, loaded.token, next.delivery);
    const previous = this.config;
    this.config = next;
    this.token = loaded.token;

    const nextBots = new Map(next.bots.map((bot) => [bot.name, bot]));
    for (const [name, running] of this.tails) {
      const updated = nextBots.get(name);
      const unchanged = updated && JSON.stringify(updated) === JSON.stringify(running.bot);
      const processorChanged =
        JSON.stringify(previous.tracker.events) !== JSON.stringify(next.tracker.events);
      if (unchanged && !processorChanged) continue;
      await running.service.stop();
      this.tails.delete(name);
    }
    this.flush();
    for (const bot of next.bots) {
      if (!this.tails.has(bot.name)) await this.startBot(bot);
    }
    this.logger.info({ bots: next.bots.map((bot) => bot.name) }, 'Configuration reloaded.');
  }

  get shutdownTimeoutMs(): number {
    return this.config.shutdownTimeoutMs;
  }

  /** Stops reading, waits for requests in flight up to `shutdownTimeoutMs`, saves state. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.spoolTimer) clearInterval(this.spoolTimer);
    // The last snapshot keeps the file table, so `status` after a stop still shows the offsets.
    if (this.tails.size > 0) this.lastFiles = this.listFiles();
    for (const { service } of this.tails.values()) await service.stop();
    this.tails.clear();
    if (this.dispatcher) await this.dispatcher.stop(this.config.shutdownTimeoutMs);
    if (this.book) {
      try {
        this.book.save();
      } catch (error) {
        this.logger.error(
          { err: error },
          'Saving checkpoints at shutdown failed; the previous state is kept.'
        );
      }
    }
    if (this.status && this.outbox) this.writeStatus(true);
    // After the last save: the deferred events' lines are behind a durable checkpoint now.
    this.deferred?.finish();
    await this.observability?.close();
    this.deadLetters?.close();
    this.outbox?.close();
    this.lock?.release();
    this.logger.info({}, 'Agent stopped.');
  }
}
