import { z } from 'zod';

// The `status.json` snapshot the running agent rewrites, as `status` reads it. Kept apart from
// the command so that zod loads only when a snapshot is read, never into the agent itself.

const deliverySchema = z.object({
  state: z.enum(['idle', 'delivering', 'retrying', 'paused']),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  lastSuccessAt: z.number().nullable(),
  lastError: z.string().nullable(),
  consecutiveFailures: z.number(),
});

/** The `status.json` snapshot that a running agent rewrites every few seconds, version 1. */
export const snapshotSchema = z.object({
  version: z.literal(1),
  savedAt: z.number(),
  pid: z.number().int().positive(),
  startedAt: z.number(),
  delivery: deliverySchema,
  outbox: z.object({
    events: z.number(),
    bytes: z.number(),
    oldestFoundAt: z.number().nullable(),
    full: z.boolean(),
  }),
  files: z.array(
    z.object({
      bot: z.string(),
      key: z.string(),
      path: z.string(),
      offset: z.number(),
      size: z.number(),
      state: z.string(),
    })
  ),
  deadLetters: z.number(),
  today: z.object({ date: z.string(), acknowledged: z.record(z.string(), z.number()) }),
  lastError: z.object({ at: z.number(), message: z.string() }).nullable(),
});
export type StatusSnapshot = z.infer<typeof snapshotSchema>;
