import type { Metrics } from '../observability/metrics.js';
import type { FileRegistry } from './file-registry.js';

/** Minimum time between two gauge updates from the read path, in ms. */
const MIN_UPDATE_INTERVAL_MS = 1000;

/**
 * Keeps a bot's file gauges current: files open and bytes not yet read. Updates from the read
 * path are spaced out, because summing over hundreds of files after every read is wasted work.
 */
export class FileGauges {
  private updatedAt = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly bot: string,
    private readonly registry: FileRegistry
  ) {}

  /** Updates the gauges unless they were updated within the last second. */
  updateSoon(): void {
    if (Date.now() - this.updatedAt >= MIN_UPDATE_INTERVAL_MS) this.update();
  }

  update(): void {
    this.updatedAt = Date.now();
    let open = 0;
    let lagBytes = 0;
    for (const file of this.registry.files()) {
      if (file.handle === null) continue;
      open++;
      lagBytes += Math.max(0, file.size - file.readOffset);
    }
    this.metrics.filesWatched.set({ bot: this.bot }, open);
    this.metrics.fileLagBytes.set({ bot: this.bot }, lagBytes);
  }
}
