/** A single pending callback that a new `schedule` can bring forward but never push back. */
export class OneShotTimer {
  private timer: NodeJS.Timeout | null = null;
  private dueAt = 0;

  constructor(private readonly callback: () => void) {}

  get pending(): boolean {
    return this.timer !== null;
  }

  /** Runs the callback after `delayMs`, unless it is already due sooner. */
  schedule(delayMs: number): void {
    const dueAt = Date.now() + delayMs;
    if (this.timer !== null && this.dueAt <= dueAt) return;
    this.clear();
    this.dueAt = dueAt;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.callback();
      },
      Math.max(0, Math.ceil(delayMs))
    );
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
