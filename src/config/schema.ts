import { z } from 'zod';
import {
  regexError,
  textPatternError,
  timezoneError,
  trackerUrlError,
  userIdPatternError,
} from './validators.js';

/** Event types the tracker counts today; `tracker.events` may extend the list. */
export const DEFAULT_EVENT_TYPES = ['appointment_open', 'appointment_cancel'] as const;

export const DEFAULT_TRACKER_URL = 'https://tracker-s2s.my.com/v1/customEvent/';

const fieldPath = z.string().min(1, 'a field path must not be empty');

/** Turns a validator that returns a message into a zod refinement that reports it. */
function reportInvalid(validate: (value: string) => string | undefined) {
  return (value: string, context: z.RefinementCtx<string>): void => {
    const message = validate(value);
    if (message !== undefined) context.addIssue({ code: 'custom', message });
  };
}

/** Operators a field condition accepts, listed in the error for an empty condition. */
const CONDITION_OPERATORS = 'eq, in, regex, contains, exists, gt, gte, lt, lte, not';

/**
 * A condition on one field of a decoded record. A plain scalar means equality. An object
 * contains one or more operators, and all of them must hold.
 */
export const fieldConditionSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z
    .object({
      eq: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
      in: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .optional(),
      regex: z.string().superRefine(reportInvalid(regexError)).optional(),
      contains: z.string().optional(),
      exists: z.boolean().optional(),
      gt: z.number().optional(),
      gte: z.number().optional(),
      lt: z.number().optional(),
      lte: z.number().optional(),
      not: z.lazy((): z.ZodType => fieldConditionSchema).optional(),
    })
    .strict()
    .refine((value) => Object.keys(value).length > 0, {
      message: `a condition needs at least one operator; allowed: ${CONDITION_OPERATORS}`,
      // An unknown operator is already reported and removed from the output, so report it once.
      when: (payload) => payload.issues.length === 0,
    }),
]);
export type FieldCondition = z.infer<typeof fieldConditionSchema>;

/**
 * A `when` block: a map of field path to condition (all must hold), or the combinators
 * `all`, `any` and `not` holding further blocks.
 */
export type WhenBlock = {
  all?: WhenBlock[];
  any?: WhenBlock[];
  not?: WhenBlock;
  [fieldPath: string]: FieldCondition | WhenBlock[] | WhenBlock | undefined;
};
export const whenSchema: z.ZodType<WhenBlock> = z.lazy(() =>
  z.record(z.string(), z.unknown()).superRefine((block, context) => {
    for (const [key, value] of Object.entries(block)) {
      if (key === 'all' || key === 'any') {
        const parsed = z.array(whenSchema).min(1).safeParse(value);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            context.addIssue({ ...issue, path: [key, ...issue.path] } as z.core.$ZodRawIssue);
          }
        }
      } else if (key === 'not') {
        const parsed = whenSchema.safeParse(value);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            context.addIssue({ ...issue, path: [key, ...issue.path] } as z.core.$ZodRawIssue);
          }
        }
      } else {
        const parsed = fieldConditionSchema.safeParse(value);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            context.addIssue({ ...issue, path: [key, ...issue.path] } as z.core.$ZodRawIssue);
          }
        }
      }
    }
  })
) as z.ZodType<WhenBlock>;

export const ruleSchema = z
  .object({
    /** Optional label used in metrics, logs and the rule tester; defaults to `<event>#<index>`. */
    name: z.string().min(1).optional(),
    event: z.string().min(1),
    when: whenSchema,
    /** Field path of the MAX user id. */
    userId: fieldPath,
    /** Regular expression with one capture group (or a group named `id`) that pulls the id out of a text field. */
    userIdPattern: z.string().superRefine(reportInvalid(userIdPatternError)).optional(),
    /** Field path of the event time. */
    time: fieldPath.optional(),
    /** Luxon format string for times that are neither epoch numbers nor ISO 8601. */
    timeFormat: z.string().optional(),
    /** Fallback for a line without a usable time: reject the event, or take the read time. */
    timeFallback: z.enum(['reject', 'readTime']).default('reject'),
    /** Field paths whose string values are JSON documents to parse before matching. */
    parse: z.record(z.string(), z.literal('json')).optional(),
  })
  .strict();
export type RuleConfig = z.infer<typeof ruleSchema>;

export const botSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .transform((value) => value.replace(/^@/, '')),
    include: z.array(z.string().min(1)).min(1),
    exclude: z.array(z.string().min(1)).default([]),
    startAt: z.enum(['beginning', 'end']).default('end'),
    format: z.enum(['json', 'docker', 'cri', 'pm2', 'text']).default('json'),
    /** For `format: text`: a regular expression with named groups that become fields. */
    pattern: z.string().superRefine(reportInvalid(textPatternError)).optional(),
    /** IANA zone for times written without an offset, for example Europe/Moscow. */
    timezone: z.string().superRefine(reportInvalid(timezoneError)).default('UTC'),
    maxLineBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Skip lines by a byte search for the rules' literals before parsing JSON. */
    prefilter: z.boolean().default(true),
    rules: z.array(ruleSchema).min(1),
  })
  .strict();
export type BotConfig = z.infer<typeof botSchema>;

export const trackerSchema = z
  .object({
    /** Endpoint without `idApp`: the agent appends `?idApp=<appId>` to it. */
    url: z.string().superRefine(reportInvalid(trackerUrlError)).default(DEFAULT_TRACKER_URL),
    appId: z.union(
      [
        z.number().int().positive(),
        z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().positive()),
      ],
      {
        error:
          'expected the app id issued with the credentials: a positive integer such as 1027600',
      }
    ),
    token: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    region: z.union([z.string().min(1), z.number().transform(String)], {
      error: 'expected the region number issued with the credentials, such as "88"',
    }),
    events: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_EVENT_TYPES]),
    /** Extra PEM bundle trusted for the tracker's TLS certificate, on top of the system roots. */
    caFile: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();
export type TrackerConfig = z.infer<typeof trackerSchema>;

export const deliverySchema = z
  .object({
    concurrency: z.number().int().min(1).max(64).default(4),
    maxRequestsPerSecond: z.number().positive().default(50),
    initialBackoffMs: z.number().int().positive().default(500),
    maxBackoffMs: z.number().int().positive().default(300_000),
    /** 0 retries forever: an event stays valid however long the tracker is down. */
    maxRetries: z.number().int().min(0).default(0),
    /** Interval between probes while the tracker rejects our credentials or our requests. */
    probeIntervalMs: z.number().int().positive().default(300_000),
  })
  .strict();
export type DeliveryConfig = z.infer<typeof deliverySchema>;

export const stateSchema = z
  .object({
    dir: z.string().min(1).default('/var/lib/mfc-events-agent'),
    /** How often checkpoints are written to disk while running. */
    flushIntervalMs: z.number().int().positive().default(1000),
  })
  .strict();

export const outboxSchema = z
  .object({
    /** Bytes on disk before reading pauses; 256 MiB is room for well over a million events. */
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024 * 1024),
  })
  .strict();

export const metricsSchema = z
  .object({
    enabled: z.boolean().default(false),
    listen: z.string().default('127.0.0.1:9464'),
  })
  .strict();

export const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .strict();

export const configSchema = z
  .object({
    tracker: trackerSchema,
    state: stateSchema.default(stateSchema.parse({})),
    outbox: outboxSchema.default(outboxSchema.parse({})),
    delivery: deliverySchema.default(deliverySchema.parse({})),
    metrics: metricsSchema.default(metricsSchema.parse({})),
    log: logSchema.default(logSchema.parse({})),
    /** Time allowed for requests in flight after SIGTERM before state is saved and the process exits. */
    shutdownTimeoutMs: z.number().int().positive().default(10_000),
    /** How long a partial last line must stay unchanged before it is taken as a whole line. */
    partialLineTimeoutMs: z.number().int().positive().default(5000),
    /** Events dated further ahead than this are flagged. */
    futureToleranceMs: z
      .number()
      .int()
      .positive()
      .default(5 * 60_000),
    /** Events dated further back than this are flagged. */
    maxEventAgeMs: z
      .number()
      .int()
      .positive()
      .default(90 * 24 * 3_600_000),
    bots: z.array(botSchema).min(1),
  })
  .strict();

export type AgentConfig = z.infer<typeof configSchema>;
