import { randomBytes } from 'node:crypto';
import { type Logger, LogRateLimiter } from '../observability/logger.js';
import { type FileCheckpoint, loadStartedBots, saveState } from './checkpoint-store.js';

/** Settings of a CheckpointBook. */
export interface CheckpointBookOptions {
  /** State directory, where state.json is written. */
  dir: string;
  /** Checkpoints loaded on start. */
  files: readonly FileCheckpoint[];
  /** Bots that started before (`loadState().bots`); read from the state file in `dir` if absent. */
  startedBots?: readonly string[];
  logger: Logger;
  /** Runs before each save; the agent passes `() => outbox.sync()` (outbox durable first). */
  beforeSave?: () => void;
  /** Runs after each successful save; the agent passes `() => outbox.compact()`. */
  afterSave?: () => void;
  /** Clock for `savedAt`, `updatedAt` and new keys, epoch ms. */
  now?: () => number;
}

/**
 * The checkpoints of every followed file, keyed by `key`, and their saving: `save` makes the
 * outbox durable, writes the state file, then lets the outbox compact, in that order.
 */
export class CheckpointBook {
  private readonly checkpoints = new Map<string, FileCheckpoint>();
  private dirty = false;
  private keyCounter = 0;
  private readonly afterSaveErrors = new LogRateLimiter();
  private readonly now: () => number;
  private readonly startedBots: Set<string>;

  constructor(private readonly options: CheckpointBookOptions) {
    this.now = options.now ?? Date.now;
    for (const checkpoint of options.files) this.checkpoints.set(checkpoint.key, checkpoint);
    this.startedBots = new Set(options.startedBots ?? loadStartedBots(options.dir));
  }

  /**
   * True when the bot's tail service started before: marked so, or (in a state file written
   * before the list existed) holding a checkpoint of the bot.
   */
  hasStarted(bot: string): boolean {
    if (this.startedBots.has(bot)) return true;
    return this.all().some((checkpoint) => checkpoint.bot === bot);
  }

  /** Records that the bot's tail service has started; saved with the next save. */
  markStarted(bot: string): void {
    if (this.startedBots.has(bot)) return;
    this.startedBots.add(bot);
    this.dirty = true;
  }

  /** True when a checkpoint changed since the last save. */
  get isDirty(): boolean {
    return this.dirty;
  }

  get(key: string): FileCheckpoint | undefined {
    return this.checkpoints.get(key);
  }

  /** Returns every checkpoint, in the order the keys were first added. */
  all(): FileCheckpoint[] {
    return [...this.checkpoints.values()];
  }

  /** Adds or replaces the checkpoint with the same key. */
  upsert(checkpoint: FileCheckpoint): void {
    this.checkpoints.set(checkpoint.key, checkpoint);
    this.dirty = true;
  }

  remove(key: string): void {
    if (this.checkpoints.delete(key)) this.dirty = true;
  }

  /**
   * Returns a key no checkpoint holds, unique across restarts: `f-<epoch ms base 36>-<counter>`
   * plus random hex, so a clock set back still cannot repeat a key of an earlier run.
   */
  newKey(): string {
    for (;;) {
      this.keyCounter++;
      const key =
        `f-${this.now().toString(36)}-${this.keyCounter.toString(36)}` +
        randomBytes(2).toString('hex');
      if (!this.checkpoints.has(key)) return key;
    }
  }

  /**
   * Saves every checkpoint: `beforeSave`, then the state file, then `afterSave`. When the save
   * fails, the book stays dirty and the StateSaveError (or the `beforeSave` error) is thrown. An
   * `afterSave` error is only logged, because the checkpoints are saved by then.
   */
  save(): void {
    this.options.beforeSave?.();
    saveState(this.options.dir, this.all(), this.now(), [...this.startedBots]);
    this.dirty = false;
    try {
      this.options.afterSave?.();
    } catch (error) {
      const suppressed = this.afterSaveErrors.take('afterSave');
      if (suppressed < 0) return;
      this.options.logger.error(
        { err: error, stateDir: this.options.dir, suppressed },
        'The step after a state save (outbox compaction) failed; it runs again after the next save.'
      );
    }
  }

  /**
   * Moves every checkpoint behind its file's high-water mark in the outbox up to it, because the
   * lines before the mark are queued already. The moved checkpoints get `tailCheck: null`, as the
   * bytes before the new offset were never hashed.
   */
  reconcile(highWaterMarks: ReadonlyMap<string, number>): void {
    let moved = 0;
    for (const checkpoint of this.checkpoints.values()) {
      const mark = highWaterMarks.get(checkpoint.key);
      if (mark === undefined || checkpoint.offset >= mark) continue;
      this.options.logger.debug(
        { file: checkpoint.key, offset: checkpoint.offset, highWaterMark: mark },
        'Checkpoint moved up to the lines already queued in the outbox.'
      );
      this.checkpoints.set(checkpoint.key, {
        ...checkpoint,
        offset: mark,
        tailCheck: null,
        updatedAt: this.now(),
      });
      moved++;
    }
    if (moved > 0) this.dirty = true;
    this.options.logger.info(
      { moved, files: this.checkpoints.size },
      'Checkpoints reconciled with the outbox.'
    );
  }
}
