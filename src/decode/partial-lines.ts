/** A bot line joined from its parts, with the file offset of its first part. */
export interface JoinedLine {
  text: string;
  offset: number;
}

interface Pending {
  text: string;
  offset: number;
  /** Set once the joined text passed the limit: parts are dropped until the line ends. */
  overflow: boolean;
}

/**
 * Joins bot lines that a log writer split into parts (Docker's 16 KiB chunks, CRI `P` lines),
 * one pending line per stream. A line longer than `maxChars` is dropped whole, so memory stays
 * bounded when a final part never comes.
 */
export class PartialLines {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly maxChars: number) {}

  /**
   * Adds a part read at `offset`. Returns the joined line when `last` is set, null while the
   * line is incomplete, and `overflow` when the finished line was too long and is dropped.
   */
  add(stream: string, part: string, offset: number, last: boolean): JoinedLine | null | 'overflow' {
    const current = this.pending.get(stream);
    if (current === undefined && last) return { text: part, offset };
    const entry = current ?? { text: '', offset, overflow: false };
    if (!entry.overflow) {
      entry.text += part;
      if (entry.text.length > this.maxChars) {
        entry.overflow = true;
        entry.text = '';
      }
    }
    if (!last) {
      this.pending.set(stream, entry);
      return null;
    }
    this.pending.delete(stream);
    return entry.overflow ? 'overflow' : { text: entry.text, offset: entry.offset };
  }

  /** File offset of the oldest part still waiting for the rest of its line, or null. */
  oldestOffset(): number | null {
    let oldest: number | null = null;
    for (const entry of this.pending.values()) {
      if (oldest === null || entry.offset < oldest) oldest = entry.offset;
    }
    return oldest;
  }

  clear(): void {
    this.pending.clear();
  }
}
