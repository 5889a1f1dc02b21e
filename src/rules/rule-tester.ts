import type { BotConfig } from '../config/schema.js';
import { createFormatDecoder } from '../decode/create-decoder.js';
import type { DecodedRecord, FormatDecoder } from '../decode/record.js';
import type { TrackerEvent } from '../events/event.js';
import { type CompiledBot, compileBot } from './compile-bot.js';
import { buildOutcome, fieldsForRule, type MatchContext } from './record-matcher.js';

/** Verdict on one line or record: the event it gives, or the reason it gives none. */
export type LineVerdict =
  | { kind: 'blank' }
  | { kind: 'not_json' }
  | { kind: 'partial' }
  | { kind: 'event'; rule: string; event: TrackerEvent; timeSuspect?: 'future' | 'old' }
  | { kind: 'invalid'; rule: string; eventName: string; reason: string }
  | { kind: 'no_match'; nearestRule: string | null; failure: string | null };

/**
 * Explains a log line by line with full parsing (no prefilter), so every line gets a reason.
 * Keeps the decoder's state, so multi-line records of `docker`, `cri` and `pm2` are joined.
 */
export class RuleTester {
  private readonly compiled: CompiledBot;
  private readonly decoder: FormatDecoder;
  private offset = 0;

  constructor(
    bot: BotConfig,
    private readonly context: MatchContext
  ) {
    this.compiled = compileBot(bot);
    this.decoder = createFormatDecoder(bot, this.compiled.textPattern);
  }

  /**
   * Returns the verdicts of one line (several when a pm2 chunk completes several bot lines).
   * `line` has no newline; a BOM on the first line, leading NULs and a trailing `\r` are
   * ignored.
   */
  explainLine(line: string): LineVerdict[] {
    const offset = this.offset;
    const text = (offset === 0 ? line.replace(/^\uFEFF/, '') : line)
      .replace(/^\u0000+/, '')
      .replace(/\r$/, '');
    this.offset += Buffer.byteLength(line) + 1;
    if (text.length === 0) return [{ kind: 'blank' }];
    const records: DecodedRecord[] = [];
    const status = this.decoder.decode(text, offset, this.offset, records);
    if (status === 'not_json') return [{ kind: 'not_json' }];
    if (records.length === 0) return [{ kind: 'partial' }];
    return records.map((record) => this.explainRecord(record));
  }

  private explainRecord(record: DecodedRecord): LineVerdict {
    let nearest: { rule: string; passed: number; failure: string | null } | null = null;
    for (const rule of this.compiled.rules) {
      const fields = fieldsForRule(record, rule);
      const explanation = rule.when.explain(fields);
      if (explanation.matched) {
        const outcome = buildOutcome(this.compiled, rule, record, fields, this.context);
        if (outcome.kind === 'invalid') {
          const { reason, eventName } = outcome.invalid;
          return { kind: 'invalid', rule: rule.name, eventName, reason };
        }
        if (outcome.kind === 'event') {
          const verdict: LineVerdict = { kind: 'event', rule: rule.name, event: outcome.event };
          if (outcome.timeSuspect !== undefined) verdict.timeSuspect = outcome.timeSuspect;
          return verdict;
        }
      }
      if (nearest === null || explanation.passed > nearest.passed) {
        nearest = { rule: rule.name, passed: explanation.passed, failure: explanation.failure };
      }
    }
    if (!record.structured) return { kind: 'not_json' };
    return {
      kind: 'no_match',
      nearestRule: nearest?.rule ?? null,
      failure: nearest?.failure ?? null,
    };
  }
}
