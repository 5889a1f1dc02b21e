import { Discovery } from '../discovery/discovery.js';
import { LogRateLimiter } from '../observability/logger.js';
import { examinePath, settleEmptyStart } from './adoption.js';
import { adoptCompressed } from './compressed-backfill.js';
import { CompressedHeadCache } from './continuation.js';
import { FileGauges } from './file-gauges.js';
import { type ReadStatus, readPlainFile } from './file-reader.js';
import { FileRegistry } from './file-registry.js';
import { FileTimers } from './file-timers.js';
import { TAIL_CHECK_MAX_BYTES } from './fingerprint.js';
import { handleTruncation, releaseFile, resolveCheckpoint } from './rotation.js';
import { dormantCheckpoints, SeenCopies, type TailRuntime } from './runtime.js';
import { SerialQueue } from './serial-queue.js';
import type { TailedFile, TailService, TailServiceOptions } from './service-contract.js';
import { SpaceGate } from './space-gate.js';
import type { TrackedFile } from './tracked-file.js';

export type { TailedFile, TailService, TailServiceOptions } from './service-contract.js';
export type { EventSink } from './sink.js';

const DEFAULT_READ_BUFFER_BYTES = 4 * 1024 * 1024;
const DEFAULT_RESCAN_INTERVAL_MS = 10_000;
const DEFAULT_RELEASE_QUIET_MS = 5_000;
/** Chunks (of the read buffer) one file reads before the next file gets a turn. */
const CHUNKS_PER_TURN = 4;
/** Pause between `drain` rounds that made no progress, in ms. */
const DRAIN_RETRY_MS = 20;

/**
 * Creates the tail service of one bot. Checkpoints are keyed by file identity (device, inode,
 * fingerprint of the first bytes, tail check before the offset), never by path. So renames,
 * copies, truncations and `.gz` generations are read on where reading stopped.
 *
 * `startAt` applies only to the files found by the bot's very first start (recorded in the
 * state file, found files or not). Every file found later, while running or after a restart,
 * is new since the agent last looked, so it is read from its beginning.
 *
 * NOTE: a file that is created and rotated away entirely while the agent is stopped is found
 * only when the include globs also match its rotated name (`app.log*` with `exclude: ['*.gz']`).
 */
export function createTailService(options: TailServiceOptions): TailService {
  return new BotTailService(options);
}

class BotTailService implements TailService {
  private readonly runtime: TailRuntime;
  private readonly queue: SerialQueue;
  private readonly discovery: Discovery;
  private readonly space: SpaceGate;
  private readonly timers: FileTimers;
  private readonly gauges: FileGauges;
  private readonly warnings = new LogRateLimiter();
  private stopping = false;
  private started = false;

  constructor(private readonly options: TailServiceOptions) {
    const { bot, logger, metrics, book, sink } = options;
    const readBufferBytes = positive(
      'readBufferBytes',
      options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES
    );
    const rescanIntervalMs = positive(
      'rescanIntervalMs',
      options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS
    );
    positive('partialLineTimeoutMs', options.partialLineTimeoutMs);
    const releaseQuietMs = options.releaseQuietMs ?? DEFAULT_RELEASE_QUIET_MS;

    this.queue = new SerialQueue(logger);
    this.space = new SpaceGate(sink);
    this.discovery = new Discovery({
      include: bot.include,
      exclude: bot.exclude,
      logger,
      rescanIntervalMs,
      usePolling: options.usePolling ?? false,
      onPath: (_event, path) => {
        void this.queue.enqueue(`path:${path}`, () => examinePath(this.runtime, path));
      },
      onRescan: () => this.enqueueRescan(),
    });
    // A line of maxLineBytes, its newline and the tail-check bytes before it must fit.
    const bufferBytes = Math.max(readBufferBytes, bot.maxLineBytes + 1 + TAIL_CHECK_MAX_BYTES);
    const warnings = this.warnings;
    this.runtime = {
      bot,
      book,
      logger,
      context: {
        botName: bot.name,
        book,
        sink,
        metrics,
        logger,
        maxLineBytes: bot.maxLineBytes,
        buffer: Buffer.allocUnsafe(bufferBytes),
        warnings,
        isStopping: () => this.stopping,
      },
      registry: new FileRegistry(),
      heads: new CompressedHeadCache(),
      createProcessor: options.createProcessor,
      mode: options.mode,
      firstInstallScan: false,
      deniedPaths: new Set(),
      seenCopies: new SeenCopies(),
      isStopping: () => this.stopping,
      isFollowable: (path) => this.discovery.isFollowable(path),
      scheduleRead: (file) => this.scheduleRead(file),
      saveNewCheckpoints: () => this.saveNewCheckpoints(),
      waitForSpace: () => this.space.wait(() => this.stopping),
    };
    this.timers = new FileTimers({
      partialLineTimeoutMs: options.partialLineTimeoutMs,
      releaseQuietMs,
      onDue: (file) => this.scheduleRead(file),
    });
    this.gauges = new FileGauges(metrics, bot.name, this.runtime.registry);
  }

  async start(): Promise<void> {
    if (this.started)
      throw new Error(`tail service of bot '${this.options.bot.name}' was already started`);
    this.started = true;
    const { runtime, options } = this;
    runtime.firstInstallScan = !options.book.hasStarted(options.bot.name);
    if (options.mode === 'follow') await this.discovery.start();
    await this.queue.enqueue('initial', async () => {
      for (const path of await this.discovery.scan()) await examinePath(runtime, path);
      if (runtime.firstInstallScan) {
        // Saved at once: a file that appears before the next start, even after a crash, is new
        // since this first look and must not start at `startAt`.
        options.book.markStarted(options.bot.name);
        this.saveNewCheckpoints();
      }
      options.logger.info(
        {
          files: runtime.registry.size,
          firstInstall: runtime.firstInstallScan,
          mode: options.mode,
        },
        'Tail service started.'
      );
      runtime.firstInstallScan = false;
    });
    void this.queue.enqueue('dormant', () => this.resolveDormant());
    if (options.includeCompressed) {
      void this.queue.enqueue('compressed', async () => {
        for (const path of await this.discovery.scanCompressed())
          await adoptCompressed(runtime, path);
      });
    }
  }

  async drain(): Promise<void> {
    if (this.options.mode === 'follow') this.enqueueRescan();
    // Each file is drained to the size it had when drain first saw it.
    const targets = new Map<TrackedFile, number>();
    for (;;) {
      await this.queue.idle();
      if (this.stopping) return;
      for (const file of this.runtime.registry.files()) {
        if (file.handle === null) continue;
        if (!targets.has(file)) targets.set(file, await sizeOf(file));
        this.scheduleRead(file);
      }
      await this.queue.idle();
      const behind = this.runtime.registry.files().filter((file) => {
        const target = targets.get(file);
        return file.handle !== null && (target === undefined || !file.isCaughtUp(target));
      });
      if (behind.length === 0) {
        this.gauges.update();
        return;
      }
      if (this.options.sink.isFull()) {
        if (!(await this.space.wait(() => this.stopping))) return;
      } else {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_RETRY_MS));
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.discovery.stop();
    for (const file of this.runtime.registry.files()) file.clearTimers();
    this.space.close();
    await this.queue.stop();
    for (const file of this.runtime.registry.files()) {
      await file.handle?.close().catch(() => undefined);
      file.handle = null;
    }
    this.runtime.registry.clear();
    this.gauges.update();
    this.options.logger.info({}, 'Tail service stopped.');
  }

  files(): TailedFile[] {
    return this.runtime.registry.files().map((file) => ({
      key: file.key,
      path: file.path,
      offset: file.checkpoint.offset,
      size: file.size,
      state: file.state,
    }));
  }

  private enqueueRescan(): void {
    void this.queue.enqueue('rescan', () => this.rescan());
  }

  private scheduleRead(file: TrackedFile): void {
    const key = file.key;
    void this.queue.enqueue(`read:${key}`, () => this.readTask(key));
  }

  /** Reads one file's new lines; looked up by key because a rotation may have replaced it. */
  private async readTask(key: string): Promise<void> {
    const { runtime, options } = this;
    const file = runtime.registry.get(key);
    if (this.stopping || file === undefined || file.state === 'compressed') return;
    if (await settleEmptyStart(runtime, file)) return;
    if (file.unsaved && !this.saveNewCheckpoints()) return;

    let status: ReadStatus;
    try {
      status = await readPlainFile(runtime.context, file, {
        finalPartial: options.mode === 'once',
        partialLineTimeoutMs: options.partialLineTimeoutMs,
        maxChunks: CHUNKS_PER_TURN,
        now: Date.now(),
      });
    } catch (error) {
      this.reportReadError(file, error);
      return;
    }
    if (this.stopping) return;

    options.logger.trace(
      { file: file.key, status, offset: file.readOffset, sizeBytes: file.size },
      'Read a log file.'
    );
    if (status === 'truncated') {
      await handleTruncation(runtime, file);
      return;
    }

    if (status === 'more') this.scheduleRead(file);
    if (status === 'blocked') this.space.whenFree(() => this.scheduleRead(file));
    if (status === 'partial') this.timers.armPartial(file);

    if (file.state === 'rotated' && options.mode === 'follow' && status !== 'blocked') {
      if (this.timers.isReleasable(file)) await releaseFile(runtime, file);
      else this.timers.armPoll(file);
    }
    this.gauges.updateSoon();
  }

  private async rescan(): Promise<void> {
    if (this.stopping) return;
    const { runtime } = this;
    const paths = await this.discovery.scan();
    const found = new Set(paths);
    for (const path of paths) await examinePath(runtime, path);
    // Paths the scan no longer found lead nowhere now, or elsewhere: examine them too.
    for (const path of runtime.registry.paths()) {
      if (!found.has(path)) await examinePath(runtime, path);
    }
    // examinePath already read the changed files that bot paths lead to. Files no path leads to
    // any more (rotated away) get a read here, because no notification covers them.
    const linked = runtime.registry.linkedFiles();
    for (const file of runtime.registry.files()) {
      if (!linked.has(file)) this.scheduleRead(file);
    }
    await this.resolveDormant();
    this.gauges.update();
  }

  private async resolveDormant(): Promise<void> {
    // Checkpoints with longer fingerprints go first: content identifies a file more surely
    // than an inode number, which a checkpoint of an empty file has alone.
    const dormant = dormantCheckpoints(this.runtime).sort(
      (a, b) => b.fingerprint.length - a.fingerprint.length
    );
    for (const checkpoint of dormant) await resolveCheckpoint(this.runtime, checkpoint);
  }

  private saveNewCheckpoints(): boolean {
    try {
      this.options.book.save();
    } catch (error) {
      const suppressed = this.warnings.take('save_new');
      if (suppressed >= 0) {
        this.options.logger.error(
          { err: error, suppressed },
          'Saving the checkpoint of a new file failed; its lines wait until a save succeeds.'
        );
      }
      return false;
    }
    for (const file of this.runtime.registry.files()) file.unsaved = false;
    return true;
  }

  private reportReadError(file: TrackedFile, error: unknown): void {
    const suppressed = this.warnings.take(`read:${file.key}`);
    if (suppressed < 0) return;
    this.options.logger.warn(
      { err: error, file: file.key, path: file.path, offset: file.readOffset, suppressed },
      'Reading a log file failed; retrying on the next rescan.'
    );
  }
}

async function sizeOf(file: TrackedFile): Promise<number> {
  const stats = await file.handle?.stat().catch(() => null);
  return stats?.size ?? 0;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} is ${value}; it must be a positive whole number`);
  }
  return value;
}
