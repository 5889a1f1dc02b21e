import { statSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { type Logger, LogRateLimiter } from '../observability/logger.js';
import type { WatchTarget } from './patterns.js';

/** Interval of chokidar polling after the fallback, in ms. */
export const POLLING_INTERVAL_MS = 1000;

/** Time to wait for a new watch to be ready before reading starts without it, in ms. */
const READY_TIMEOUT_MS = 10_000;

/**
 * Delay of the trailing `change` repeated after each change notification, in ms. chokidar 5
 * drops a `change` that comes within 50 ms of the previous one for the same path and never
 * sends it later, so without the repeat an append in a burst waits for the next rescan.
 */
export const TRAILING_CHANGE_DELAY_MS = 100;

/** Error codes that mean the kernel refused another inotify watch or descriptor. */
const WATCH_LIMIT_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

/** A file event chokidar reported for a path (not yet filtered by the bot's globs). */
export type PathEvent = 'add' | 'change' | 'unlink';

/** Settings of a `PathWatcher`. */
export interface PathWatcherOptions {
  targets: readonly WatchTarget[];
  logger: Logger;
  onPath: (event: PathEvent, path: string) => void;
  /** Called when a watched directory appears or a watch had to move, so the owner rescans. */
  onDirectoryChange: () => void;
  /** Starts in polling mode, as after an inotify limit. */
  usePolling?: boolean;
}

interface ActiveWatch {
  target: WatchTarget;
  /** Directory actually watched: the target's base, or its nearest existing ancestor. */
  root: string;
  watcher: FSWatcher;
}

/**
 * Watches the base directory of each include glob with chokidar. A base that does not exist yet
 * is replaced by its nearest existing ancestor until it appears. When the kernel's inotify
 * limits are hit, every watch switches to polling once, with one warning.
 */
export class PathWatcher {
  private readonly active: ActiveWatch[] = [];
  private polling: boolean;
  private closed = false;
  private readonly errors = new LogRateLimiter();
  /** Serializes refreshes and the polling switch, which both replace watches. */
  private chain: Promise<void> = Promise.resolve();
  /** Pending trailing `change` per path; none while nothing changes. */
  private readonly trailingChanges = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: PathWatcherOptions) {
    this.polling = options.usePolling ?? false;
  }

  /** True once the watches poll instead of using inotify. */
  get isPolling(): boolean {
    return this.polling;
  }

  /** Starts one watch per target and resolves when chokidar has walked them. */
  async start(): Promise<void> {
    await Promise.all(this.options.targets.map((target) => this.open(target)));
  }

  /** Moves any watch whose target base appeared or disappeared since it was opened. */
  refresh(): Promise<void> {
    this.chain = this.chain
      .then(() => this.moveWatches())
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'Moving a file watch failed; rescans continue.');
      });
    return this.chain;
  }

  private async moveWatches(): Promise<void> {
    for (const entry of [...this.active]) {
      if (this.closed) return;
      const root = nearestExistingDirectory(entry.target.base);
      if (root === entry.root) continue;
      this.active.splice(this.active.indexOf(entry), 1);
      await entry.watcher.close();
      await this.open(entry.target);
      this.options.onDirectoryChange();
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    for (const timer of this.trailingChanges.values()) clearTimeout(timer);
    this.trailingChanges.clear();
    const watchers = this.active.splice(0).map((entry) => entry.watcher);
    await Promise.all(watchers.map((watcher) => watcher.close()));
  }

  /**
   * Handles a chokidar error. Returns true when it was an inotify limit and the watches were
   * switched to polling.
   */
  async handleError(error: unknown): Promise<boolean> {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && WATCH_LIMIT_CODES.has(code) && !this.polling) {
      this.polling = true;
      this.options.logger.warn(
        { code, pollingIntervalMs: POLLING_INTERVAL_MS },
        'File watch limit reached; falling back to polling. Raise fs.inotify.max_user_watches ' +
          '(sysctl) and the open file limit to get change notifications again.'
      );
      this.chain = this.chain.then(() => this.reopenAll());
      await this.chain;
      return true;
    }
    const suppressed = this.errors.take(String(code));
    if (suppressed >= 0) {
      this.options.logger.warn(
        { err: error, code, suppressed },
        'File watcher error; rescans continue.'
      );
    }
    return false;
  }

  /**
   * Reports a change, then once more TRAILING_CHANGE_DELAY_MS after the last change reported
   * for the path, which covers the changes chokidar dropped in between.
   */
  private reportChange(path: string): void {
    this.options.onPath('change', path);
    clearTimeout(this.trailingChanges.get(path));
    const timer = setTimeout(() => {
      this.trailingChanges.delete(path);
      if (!this.closed) this.options.onPath('change', path);
    }, TRAILING_CHANGE_DELAY_MS);
    timer.unref();
    this.trailingChanges.set(path, timer);
  }

  private async reopenAll(): Promise<void> {
    const targets = this.active.map((entry) => entry.target);
    const watchers = this.active.splice(0).map((entry) => entry.watcher);
    await Promise.all(watchers.map((watcher) => watcher.close()));
    if (this.closed) return;
    await Promise.all(targets.map((target) => this.open(target)));
    this.options.onDirectoryChange();
  }

  private async open(target: WatchTarget): Promise<void> {
    const root = nearestExistingDirectory(target.base);
    const waiting = root !== target.base;
    // While the base is missing, watch just deep enough to see its directories appear.
    const depth = waiting ? missingLevels(root, target.base) - 1 : target.depth;
    const watcher = watch(root, {
      ignoreInitial: true,
      followSymlinks: true,
      atomic: false,
      usePolling: this.polling,
      interval: POLLING_INTERVAL_MS,
      binaryInterval: POLLING_INTERVAL_MS,
      ...(depth === undefined ? {} : { depth }),
    });
    const entry: ActiveWatch = { target, root, watcher };
    this.active.push(entry);
    watcher.on('add', (path) => this.options.onPath('add', path));
    watcher.on('change', (path) => this.reportChange(path));
    watcher.on('unlink', (path) => this.options.onPath('unlink', path));
    watcher.on('addDir', () => {
      if (waiting) void this.refresh();
      else this.options.onDirectoryChange();
    });
    watcher.on('unlinkDir', (path) => {
      if (path === root) void this.refresh();
    });
    watcher.on('error', (error) => void this.handleError(error));
    await whenReady(watcher, this.options.logger, root);
  }
}

/**
 * Waits for chokidar's `ready`, at most READY_TIMEOUT_MS: a watch that never gets ready (a
 * huge tree, a hung network file system) must not hold up reading, which rescans cover.
 */
async function whenReady(watcher: FSWatcher, logger: Logger, root: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ready = new Promise<boolean>((resolve) => watcher.once('ready', () => resolve(true)));
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    timer.unref();
  });
  const inTime = await Promise.race([ready, late]);
  clearTimeout(timer);
  if (!inTime) {
    logger.warn(
      { dir: root, timeoutMs: READY_TIMEOUT_MS },
      'File watch is not ready yet; reading starts anyway and periodic rescans find new files.'
    );
  }
}

/** Returns `dir` when it is a directory, else the closest ancestor that is (at worst `/`). */
export function nearestExistingDirectory(dir: string): string {
  let current = dir;
  for (;;) {
    try {
      if (statSync(current).isDirectory()) return current;
    } catch {
      // Missing or unreadable: try the parent.
    }
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}

function missingLevels(root: string, base: string): number {
  return relative(root, base)
    .split(sep)
    .filter((part) => part.length > 0).length;
}
