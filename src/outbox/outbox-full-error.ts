/**
 * Thrown by `append` when the outbox segments on disk reach `outbox.maxBytes`. Nothing of the batch
 * was written; the caller pauses reading and retries after the outbox emits `space`.
 */
export class OutboxFullError extends Error {
  constructor(
    readonly outboxDir: string,
    readonly bytes: number,
    readonly maxBytes: number
  ) {
    super(
      `outbox ${outboxDir} holds ${bytes} bytes, at its limit outbox.maxBytes = ${maxBytes}; ` +
        'reading pauses until delivery frees space (raise outbox.maxBytes to queue more)'
    );
    this.name = 'OutboxFullError';
  }
}
