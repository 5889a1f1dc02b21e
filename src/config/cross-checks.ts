import { type Document, isScalar } from 'yaml';
import { describeValue, type KeyPath } from './key-path.js';
import { DEFAULT_EVENT_TYPES, deliverySchema } from './schema.js';
import type { ProblemDraft } from './yaml-source.js';

type Mapping = Record<string, unknown>;

const DEFAULT_MAX_BACKOFF_MS = deliverySchema.parse({}).maxBackoffMs;

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mappings(value: unknown): [number, Mapping][] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, index) =>
    isMapping(item) ? [[index, item] as [number, Mapping]] : []
  );
}

/**
 * Checks rules that span several keys. It reads the data before the schema has accepted it,
 * so every access is guarded, and it runs even when the schema found problems so that one
 * run reports everything.
 */
export function checkCrossFields(raw: unknown, doc: Document.Parsed): ProblemDraft[] {
  if (!isMapping(raw)) return [];
  const tracker = isMapping(raw.tracker) ? raw.tracker : undefined;
  return [
    ...checkToken(tracker),
    ...checkRegionSource(tracker, doc),
    ...checkEventTypes(raw, tracker),
    ...checkBots(raw.bots),
    ...checkBackoff(raw.delivery),
  ];
}

function checkToken(tracker: Mapping | undefined): ProblemDraft[] {
  if (tracker === undefined) return [];
  const hasToken = tracker.token !== undefined;
  const hasTokenFile = tracker.tokenFile !== undefined;
  if (hasToken && hasTokenFile) {
    return [
      {
        path: ['tracker', 'tokenFile'],
        at: 'key',
        message: 'tracker.token is set as well; set exactly one of token and tokenFile',
      },
    ];
  }
  if (!hasToken && !hasTokenFile) {
    return [
      {
        path: ['tracker'],
        at: 'key',
        message:
          // biome-ignore lint/suspicious/noTemplateCurlyInString: shows the configuration syntax.
          'missing token; set tracker.token (for example token: ${MFC_TRACKER_TOKEN}) ' +
          'or tracker.tokenFile (a file holding the token)',
      },
    ];
  }
  return [];
}

/** YAML reads an unquoted `088` as the number 88, which would send the wrong region. */
function checkRegionSource(tracker: Mapping | undefined, doc: Document.Parsed): ProblemDraft[] {
  if (typeof tracker?.region !== 'number') return [];
  const node = doc.getIn(['tracker', 'region'], true);
  if (!isScalar(node) || node.source === undefined) return [];
  if (node.source === String(tracker.region)) return [];
  return [
    {
      path: ['tracker', 'region'],
      message:
        `${node.source} is read as the number ${tracker.region}; ` +
        `write the region in quotes: region: "${node.source}"`,
    },
  ];
}

function checkEventTypes(raw: Mapping, tracker: Mapping | undefined): ProblemDraft[] {
  const listed = tracker?.events;
  if (listed !== undefined && !isStringList(listed)) return []; // the schema reports it
  const allowed: readonly string[] = listed ?? DEFAULT_EVENT_TYPES;
  const drafts: ProblemDraft[] = [];
  for (const [botIndex, bot] of mappings(raw.bots)) {
    for (const [ruleIndex, rule] of mappings(bot.rules)) {
      if (typeof rule.event !== 'string' || allowed.includes(rule.event)) continue;
      drafts.push({
        path: ['bots', botIndex, 'rules', ruleIndex, 'event'],
        message:
          `unknown event type ${describeValue(rule.event)}; allowed: ${allowed.join(', ')}` +
          (listed === undefined ? ' (add new types to tracker.events)' : ''),
      });
    }
  }
  return drafts;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function checkBots(bots: unknown): ProblemDraft[] {
  const drafts: ProblemDraft[] = [];
  const firstIndexByName = new Map<string, number>();
  for (const [index, bot] of mappings(bots)) {
    const path: KeyPath = ['bots', index];
    if (typeof bot.name === 'string') {
      // The schema drops a leading @, so `@mfc_bot` and `mfc_bot` are the same bot.
      const name = bot.name.replace(/^@/, '');
      const first = firstIndexByName.get(name);
      if (first === undefined) {
        firstIndexByName.set(name, index);
      } else {
        drafts.push({
          path: [...path, 'name'],
          message: `duplicate bot name ${describeValue(name)}, also used by bots[${first}]; give each bot its own name`,
        });
      }
    }
    if (bot.format === 'text' && bot.pattern === undefined) {
      drafts.push({
        path: [...path, 'format'],
        message:
          "'text' requires pattern, a regular expression whose named groups become " +
          "the record's fields, for example '^(?<time>\\S+) (?<msg>.*)$'",
      });
    }
  }
  return drafts;
}

function checkBackoff(delivery: unknown): ProblemDraft[] {
  if (!isMapping(delivery)) return [];
  const initialBackoffMs = delivery.initialBackoffMs;
  const maxBackoffMs = delivery.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  if (typeof initialBackoffMs !== 'number' || typeof maxBackoffMs !== 'number') return [];
  if (initialBackoffMs <= maxBackoffMs) return [];
  return [
    {
      path: ['delivery', 'initialBackoffMs'],
      message: `invalid value ${initialBackoffMs}; expected at most delivery.maxBackoffMs (${maxBackoffMs})`,
    },
  ];
}
