/**
 * Requests on the wire, by outbox seq, each with the controller that aborts it and a promise
 * that settles once its response has been handled.
 */
export class InFlightRequests {
  private readonly requests = new Map<
    number,
    { controller: AbortController; done: Promise<void> }
  >();

  get size(): number {
    return this.requests.size;
  }

  add(seq: number, controller: AbortController, done: Promise<void>): void {
    this.requests.set(seq, { controller, done });
  }

  delete(seq: number): void {
    this.requests.delete(seq);
  }

  /**
   * Waits up to `timeoutMs` for every request to finish, then aborts the rest and waits for
   * their handlers. Returns how many were aborted.
   */
  async finish(timeoutMs: number): Promise<number> {
    if (this.requests.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([Promise.all(this.donePromises()), timeout]);
      clearTimeout(timer);
    }
    const aborted = this.requests.size;
    for (const request of this.requests.values()) request.controller.abort();
    await Promise.all(this.donePromises());
    return aborted;
  }

  private donePromises(): Promise<void>[] {
    return [...this.requests.values()].map((request) => request.done);
  }
}
