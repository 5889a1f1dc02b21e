import type { SendResult } from '../sender.js';

/** Carries one request body to the tracker and turns what comes back into a `SendResult`. */
export interface Transport {
  /** Posts `body`; never rejects. An abort through `signal` returns `aborted`. */
  send(body: string, signal: AbortSignal | undefined): Promise<SendResult>;
  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void>;
}

/** Settings shared by both transports, resolved once per sender. */
export interface TransportOptions {
  /** Tracker URL with `idApp` in the query. */
  target: URL;
  /** Request headers without `content-length`, which each request sets for its body. */
  headers: Record<string, string>;
  /** Deadline of one request from its start to the last byte of the response, in ms. */
  timeoutMs: number;
  /** CA certificates in PEM that replace Node's bundled roots, or undefined to keep those. */
  ca: string[] | undefined;
  /** Sockets open at once to the tracker; requests beyond it wait for a free socket. */
  maxSockets: number;
  /** The token, masked out of every error message. */
  token: string;
}

/** Characters of a response body kept for logs and dead letters. */
export const MAX_RESPONSE_BODY_CHARS = 4096;

/** Bytes of a response body read before the connection is dropped instead of drained. */
export const MAX_DRAIN_BYTES = 1024 * 1024;

/** Idle time after which a kept-alive connection is closed, in ms. */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;
