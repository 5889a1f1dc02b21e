import type { ChunkResult } from '../rules/line-processor.js';

/** Where a tail service queues the events its lines produced (the outbox, in the agent). */
export interface EventSink {
  /**
   * Queues the events of one file's lines. Throws OutboxFullError (from src/outbox/outbox.ts)
   * when the outbox is full: nothing of the batch was queued, so retry the same range later.
   */
  append(fileKey: string, result: ChunkResult): void;
  isFull(): boolean;
  /** Calls back once when space frees up after a full outbox. */
  onceSpace(callback: () => void): void;
}
