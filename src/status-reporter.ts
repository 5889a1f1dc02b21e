import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeliveryHealth } from './delivery/dispatcher.js';
import type { OutboxStats } from './outbox/outbox.js';

/** Maximum interval between two writes of an unchanged snapshot, in ms. */
const REFRESH_MS = 10_000;

/** Name of the snapshot that `mfc-events-agent status` reads from the state directory. */
export const STATUS_FILE = 'status.json';

/** Events acknowledged per type on one local date. */
interface TodayCounts {
  date: string;
  acknowledged: Record<string, number>;
}

export interface StatusSnapshotInput {
  delivery: DeliveryHealth;
  outbox: OutboxStats & { full: boolean };
  files: { bot: string; key: string; path: string; offset: number; size: number; state: string }[];
  deadLetters: number;
}

/**
 * Keeps the counters that exist only in the running process (events acknowledged today, the
 * last error) and writes them with the rest of the picture to `status.json`, atomically.
 */
export class StatusReporter {
  private readonly startedAt = Date.now();
  private today: TodayCounts = { date: localDate(), acknowledged: {} };
  private lastError: { at: number; message: string } | null = null;
  private lastContent = '';
  private lastWrittenAt = 0;

  constructor(private readonly stateDir: string) {
    this.today = readTodayCounts(join(stateDir, STATUS_FILE)) ?? this.today;
  }

  countAcknowledged(eventName: string): void {
    const date = localDate();
    if (date !== this.today.date) this.today = { date, acknowledged: {} };
    this.today.acknowledged[eventName] = (this.today.acknowledged[eventName] ?? 0) + 1;
  }

  recordError(message: string): void {
    if (this.lastError?.message === message) return;
    this.lastError = { at: Date.now(), message };
  }

  /**
   * Writes the snapshot to a temporary file and renames it over the previous one, so readers
   * never see half of it. An unchanged snapshot is rewritten only every `REFRESH_MS`, which
   * keeps an idle agent idle while `status` can still tell a live agent from a stopped one.
   */
  write(input: StatusSnapshotInput, force = false): void {
    const content = JSON.stringify({ ...input, today: this.today, lastError: this.lastError });
    const now = Date.now();
    if (!force && content === this.lastContent && now - this.lastWrittenAt < REFRESH_MS) return;
    this.lastContent = content;
    this.lastWrittenAt = now;
    const snapshot = {
      version: 1,
      savedAt: now,
      pid: process.pid,
      startedAt: this.startedAt,
      ...input,
      today: this.today,
      lastError: this.lastError,
    };
    const path = join(this.stateDir, STATUS_FILE);
    const temporary = `${path}.tmp`;
    // No fsync: the snapshot is rewritten every second and a stale one after a power loss is harmless.
    writeFileSync(temporary, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o640 });
    renameSync(temporary, path);
  }
}

/** Returns today's date in the machine's time zone as YYYY-MM-DD. */
function localDate(now = new Date()): string {
  const month = String(now.getMonth() + 1).padStart(2, '0');
  const day = String(now.getDate()).padStart(2, '0');
  return `${now.getFullYear()}-${month}-${day}`;
}

/** Reads today's acknowledgement counts from the previous run's snapshot, so a restart keeps them. */
function readTodayCounts(path: string): TodayCounts | null {
  try {
    const previous = JSON.parse(readFileSync(path, 'utf8')) as {
      today?: { date?: unknown; acknowledged?: unknown };
    };
    const today = previous.today;
    if (
      today?.date !== localDate() ||
      typeof today.acknowledged !== 'object' ||
      today.acknowledged === null
    ) {
      return null;
    }
    const acknowledged: Record<string, number> = {};
    for (const [name, count] of Object.entries(today.acknowledged)) {
      if (typeof count === 'number' && Number.isInteger(count) && count >= 0)
        acknowledged[name] = count;
    }
    return { date: today.date, acknowledged };
  } catch {
    // No snapshot yet, or an unreadable one: the counts start from zero.
    return null;
  }
}
