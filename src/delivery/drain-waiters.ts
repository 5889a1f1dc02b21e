/** Result of `Dispatcher.drained`. */
export type DrainResult = { ok: true } | { ok: false; reason: string };

/** The dispatcher's facts that decide whether a drain waiter can be settled. */
export interface DrainFacts {
  /** Set when delivery cannot drain: paused on a rejection, or stopped. */
  blockedBy: string | null;
  /** True when the outbox is empty and nothing is held or in flight. */
  drained: () => boolean;
  /** Epoch ms of the first transient failure since the last success; null while succeeding. */
  failingSince: number | null;
  lastError: string | null;
}

interface Waiter {
  resolve: (result: DrainResult) => void;
  giveUpAfterMs: number | null;
}

/**
 * The pending `drained()` calls. Each resolves once when the outbox drains, when delivery
 * blocks, or when transient failures have lasted its `giveUpAfterMs`.
 */
export class DrainWaiters {
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly recheck: () => void) {}

  add(giveUpAfterMs: number | null): Promise<DrainResult> {
    return new Promise((resolve) => this.waiters.push({ resolve, giveUpAfterMs }));
  }

  get size(): number {
    return this.waiters.length;
  }

  /** Resolves every waiter that the facts settle and arms a timer for the next give-up time. */
  settle(facts: DrainFacts, now = Date.now()): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.waiters.length === 0) return;

    const shared = sharedResult(facts);
    if (shared !== null) {
      this.resolveAll(shared);
      return;
    }
    if (facts.failingSince === null) return;

    let nextDueAt = Number.POSITIVE_INFINITY;
    const remaining: Waiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.giveUpAfterMs === null) {
        remaining.push(waiter);
        continue;
      }
      const dueAt = facts.failingSince + waiter.giveUpAfterMs;
      if (now >= dueAt) {
        const reason = `the tracker stayed unreachable for ${waiter.giveUpAfterMs} ms (last error: ${facts.lastError})`;
        waiter.resolve({ ok: false, reason });
      } else {
        remaining.push(waiter);
        nextDueAt = Math.min(nextDueAt, dueAt);
      }
    }
    this.waiters = remaining;
    if (Number.isFinite(nextDueAt)) {
      this.timer = setTimeout(() => this.recheck(), nextDueAt - now);
    }
  }

  resolveAll(result: DrainResult): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.resolve(result);
  }
}

function sharedResult(facts: DrainFacts): DrainResult | null {
  if (facts.blockedBy !== null) return { ok: false, reason: facts.blockedBy };
  if (facts.drained()) return { ok: true };
  return null;
}
