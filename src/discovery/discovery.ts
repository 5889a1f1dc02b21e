import type { Logger } from '../observability/logger.js';
import {
  absolutePattern,
  compilePathMatcher,
  compressedPattern,
  isCompressedPath,
  type PathMatcher,
  watchTargetOf,
} from './patterns.js';
import { scanFiles } from './scanner.js';
import { type PathEvent, PathWatcher } from './watcher.js';

/** Settings of a bot's `Discovery`. */
export interface DiscoveryOptions {
  include: readonly string[];
  exclude: readonly string[];
  logger: Logger;
  /** Period of the safety-net rescan, in ms. */
  rescanIntervalMs: number;
  /** A path matching the globs was added, changed or removed. */
  onPath: (event: PathEvent, path: string) => void;
  /** Time to rescan: the periodic timer fired, or a watched directory changed. */
  onRescan: () => void;
  /** Starts chokidar in polling mode. */
  usePolling?: boolean;
}

/**
 * Finds the paths that belong to one bot: glob scans with tinyglobby, chokidar notifications
 * filtered by the same matcher, and a periodic rescan for anything the notifications missed.
 * `.gz` files are never reported as plain files; `scanCompressed` lists them separately.
 */
export class Discovery {
  readonly matcher: PathMatcher;
  private readonly patterns: string[];
  private watcher: PathWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: DiscoveryOptions) {
    this.patterns = options.include.map(absolutePattern);
    this.matcher = compilePathMatcher(options.include, options.exclude);
  }

  /** True once the watches fell back to polling. */
  get isPolling(): boolean {
    return this.watcher?.isPolling ?? false;
  }

  /** Starts the watches and the rescan timer; resolves when the watches are in place. */
  async start(): Promise<void> {
    const { options } = this;
    this.watcher = new PathWatcher({
      targets: this.patterns.map(watchTargetOf),
      logger: options.logger,
      usePolling: options.usePolling ?? false,
      onPath: (event, path) => {
        if (this.isFollowable(path)) options.onPath(event, path);
      },
      onDirectoryChange: () => options.onRescan(),
    });
    await this.watcher.start();
    this.timer = setInterval(() => {
      void this.watcher?.refresh();
      options.onRescan();
    }, options.rescanIntervalMs);
    this.timer.unref();
  }

  /** Lists the plain files that match the globs now. */
  scan(): Promise<string[]> {
    return scanFiles(this.patterns, (path) => this.isFollowable(path));
  }

  /** Lists the `.gz` generations of the bot's files that exist now. */
  scanCompressed(): Promise<string[]> {
    return scanFiles(this.patterns.map(compressedPattern), (path) =>
      this.matcher.matchesCompressed(path)
    );
  }

  /** True when `path` is one of the bot's plain files. */
  isFollowable(path: string): boolean {
    return !isCompressedPath(path) && this.matcher.matches(path);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.watcher?.stop();
    this.watcher = null;
  }
}
