import type { EventSink } from './sink.js';

/** Interval at which a blocked reader checks the sink again, in ms. */
const RECHECK_INTERVAL_MS = 1000;

/**
 * Pauses readers while the sink refuses appends. Holds one `onceSpace` registration at a
 * time and checks `isFull()` every second, so a missed space notification or an append that
 * failed for another reason (a write error) is retried without a busy loop.
 */
export class SpaceGate {
  private callbacks: (() => void)[] = [];
  private registered = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly sink: EventSink) {}

  /** Calls back once the sink has space again (or after a second when it was not full). */
  whenFree(callback: () => void): void {
    if (this.closed) return;
    this.callbacks.push(callback);
    this.arm();
  }

  /** Resolves true when the sink may take appends again, false when the gate closed first. */
  wait(isStopping: () => boolean): Promise<boolean> {
    if (this.closed || isStopping()) return Promise.resolve(false);
    return new Promise((resolve) => this.whenFree(() => resolve(!this.closed && !isStopping())));
  }

  /** Wakes every waiter (their `wait` resolves false) and stops checking. */
  close(): void {
    this.closed = true;
    this.fire();
  }

  private arm(): void {
    if (!this.registered && this.sink.isFull()) {
      this.registered = true;
      this.sink.onceSpace(() => {
        this.registered = false;
        this.fire();
      });
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.sink.isFull()) this.arm();
      else this.fire();
    }, RECHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private fire(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }
}
