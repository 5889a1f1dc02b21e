import type { TrackedFile } from './tracked-file.js';

/** First poll of a rotated file after it grew, in ms. */
const POLL_MIN_MS = 100;
/** Maximum poll interval of a rotated file, in ms, reached after a few polls without growth. */
const POLL_MAX_MS = 1000;

/** Settings of `FileTimers`. */
export interface FileTimersOptions {
  partialLineTimeoutMs: number;
  releaseQuietMs: number;
  /** Called when a file should be read again. */
  onDue: (file: TrackedFile) => void;
}

/**
 * The per-file timers: the wait on a partial last line, and the poll of a rotated file that
 * no notification covers any more (100 ms right after growth, backing off to 1 s).
 */
export class FileTimers {
  constructor(private readonly options: FileTimersOptions) {}

  /** Reads the file again when its partial last line has waited the full timeout. */
  armPartial(file: TrackedFile): void {
    const partial = file.partial;
    if (file.partialTimer !== null || partial === null) return;
    const remainingMs = Math.max(
      0,
      partial.sinceMs + this.options.partialLineTimeoutMs - Date.now()
    );
    file.partialTimer = setTimeout(() => {
      file.partialTimer = null;
      this.options.onDue(file);
    }, remainingMs + 1);
    file.partialTimer.unref();
  }

  /** True when a rotated file is read to its end and has not changed for the quiet period. */
  isReleasable(file: TrackedFile): boolean {
    return file.isReadToEnd && Date.now() - file.lastActivityMs >= this.options.releaseQuietMs;
  }

  /** Polls a rotated file, sooner right after it grew, never past its release time. */
  armPoll(file: TrackedFile): void {
    if (file.pollTimer !== null) return;
    const idleMs = Date.now() - file.lastActivityMs;
    const backoffMs =
      idleMs < 2 * POLL_MIN_MS
        ? POLL_MIN_MS
        : Math.min(Math.max(2 * file.pollDelayMs, POLL_MIN_MS), POLL_MAX_MS);
    file.pollDelayMs = backoffMs;
    const untilReleaseMs = this.options.releaseQuietMs - idleMs;
    const delayMs = Math.max(POLL_MIN_MS, Math.min(backoffMs, untilReleaseMs + 1));
    file.pollTimer = setTimeout(() => {
      file.pollTimer = null;
      this.options.onDue(file);
    }, delayMs);
    file.pollTimer.unref();
  }
}
