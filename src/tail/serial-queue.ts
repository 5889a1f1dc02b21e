import type { Logger } from '../observability/logger.js';

type Task = () => Promise<void>;

interface Entry {
  run: Task;
  done: Promise<void>;
  resolve: () => void;
}

/**
 * Runs keyed tasks one at a time, in the order first queued. A key already waiting is not
 * queued twice, so a burst of notifications for one file costs one read. One task at a time
 * is what lets the whole service share a single read buffer.
 */
export class SerialQueue {
  private readonly waiting = new Map<string, Entry>();
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly logger: Logger) {}

  /** Queues a task unless one with the same key waits; resolves when that task has run. */
  enqueue(key: string, run: Task): Promise<void> {
    const queued = this.waiting.get(key);
    if (queued) return queued.done;
    if (this.stopped) return Promise.resolve();
    let resolve!: () => void;
    const done = new Promise<void>((settle) => {
      resolve = settle;
    });
    this.waiting.set(key, { run, done, resolve });
    this.running ??= this.drain();
    return done;
  }

  /** Resolves once no task runs or waits. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Drops the waiting tasks and resolves when the running one has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.waiting.values()) entry.resolve();
    this.waiting.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = this.waiting.entries().next();
      if (next.done) break;
      const [key, entry] = next.value;
      this.waiting.delete(key);
      try {
        await entry.run();
      } catch (error) {
        this.logger.error(
          { err: error, task: key },
          'A tail task failed; it runs again on rescan.'
        );
      } finally {
        entry.resolve();
      }
    }
    this.running = null;
  }
}
