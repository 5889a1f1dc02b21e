import type { Outbox, OutboxRecord } from '../outbox/outbox.js';

/** A record taken from the outbox and not yet acknowledged or dead-lettered. */
export interface HeldRecord {
  record: OutboxRecord;
  /** Transient failures so far, compared with `delivery.maxRetries`. */
  failures: number;
  sending: boolean;
}

/**
 * The records delivery took from the outbox and still owns, oldest first. The outbox hands
 * each record out once per process, so a record leaves this set only when it is acknowledged,
 * dead-lettered, or dropped at shutdown (it then stays in the outbox for the next start).
 */
export class HeldRecords {
  // A Map iterates in insertion order, and the outbox hands records out in seq order.
  private readonly records = new Map<number, HeldRecord>();

  constructor(private readonly outbox: Pick<Outbox, 'take'>) {}

  get size(): number {
    return this.records.size;
  }

  /**
   * Returns the oldest record not being sent. When every held record is being sent, takes more
   * from the outbox, holding at most `capacity` records; returns null when there are none.
   */
  nextWaiting(capacity: number): HeldRecord | null {
    for (const held of this.records.values()) if (!held.sending) return held;
    const taken = this.refill(capacity);
    return taken === null ? null : (this.records.get(taken) ?? null);
  }

  /** Takes records from the outbox up to `capacity` held; returns the first new seq or null. */
  refill(capacity: number): number | null {
    const room = capacity - this.records.size;
    if (room <= 0) return null;
    const records = this.outbox.take(room);
    for (const record of records) {
      this.records.set(record.seq, { record, failures: 0, sending: false });
    }
    return records[0]?.seq ?? null;
  }

  delete(seq: number): void {
    this.records.delete(seq);
  }

  clear(): void {
    this.records.clear();
  }
}
