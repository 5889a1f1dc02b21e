import type { BotConfig, RuleConfig } from '../config/schema.js';
import { isValidTimezone } from '../events/timestamp.js';
import { compileFieldPath, type FieldPath } from './field-path.js';
import { buildPrefilter, type Prefilter } from './prefilter.js';
import { compileRegex } from './regex.js';
import { type BlockCheck, compileWhen } from './when-block.js';

/** One rule ready to evaluate. */
export interface CompiledRule {
  /** `rule.name`, or `<event>#<index>`: the label in metrics, logs and the rule tester. */
  readonly name: string;
  readonly index: number;
  readonly event: string;
  readonly when: BlockCheck;
  readonly userIdPath: FieldPath;
  readonly userIdPattern?: RegExp;
  /** Field path of the event time; when absent the usual time fields are tried. */
  readonly timePath?: FieldPath;
  readonly timeFormat?: string;
  readonly timeFallback: 'reject' | 'readTime';
  /** String fields parsed as JSON before the rule is evaluated. */
  readonly parsePaths: readonly FieldPath[];
}

/** A bot's rules, prefilter and format settings, compiled once and shared by its files. */
export interface CompiledBot {
  readonly config: BotConfig;
  readonly rules: readonly CompiledRule[];
  /** Byte literals that every matching line contains; null when lines must all be parsed. */
  readonly prefilter: Prefilter | null;
  /** The `text` format's line pattern. */
  readonly textPattern?: RegExp;
}

/**
 * Fields tried in order when a rule names no time field: pino, bunyan and logrus write `time`,
 * winston and structlog `timestamp`, zap `ts`, python-json-logger `asctime`, loguru's
 * `serialize` output `record.time.timestamp`.
 */
export const DEFAULT_TIME_PATHS: readonly FieldPath[] = [
  'time',
  'timestamp',
  'ts',
  '@timestamp',
  'asctime',
  'record.time.timestamp',
].map(compileFieldPath);

const cache = new WeakMap<BotConfig, CompiledBot>();

/**
 * Compiles a bot's rules once; later calls with the same config object return the same result,
 * so opening a processor per file is cheap. Throws an error naming the bot, the rule and the fix
 * when a path, regex, pattern or timezone is invalid.
 */
export function compileBot(bot: BotConfig): CompiledBot {
  const cached = cache.get(bot);
  if (cached !== undefined) return cached;
  if (!isValidTimezone(bot.timezone)) {
    throw new Error(
      `bot '${bot.name}': unknown timezone '${bot.timezone}'; use an IANA zone name such as ` +
        'Europe/Moscow or UTC'
    );
  }
  const compiled: CompiledBot = {
    config: bot,
    rules: bot.rules.map((rule, index) => compileRule(bot, rule, index)),
    prefilter: buildPrefilter(bot),
    textPattern: bot.format === 'text' ? compileTextPattern(bot) : undefined,
  };
  cache.set(bot, compiled);
  return compiled;
}

/** Returns the label of a rule: its `name`, or `<event>#<index>` for an unnamed rule. */
export function ruleName(rule: RuleConfig, index: number): string {
  return rule.name ?? `${rule.event}#${index}`;
}

function compileRule(bot: BotConfig, rule: RuleConfig, index: number): CompiledRule {
  const name = ruleName(rule, index);
  const where = `bot '${bot.name}' rule '${name}'`;
  const path = (source: string, key: string): FieldPath => {
    try {
      return compileFieldPath(source);
    } catch (error) {
      throw new Error(`${where} ${key}: ${(error as Error).message}`);
    }
  };
  return {
    name,
    index,
    event: rule.event,
    when: compileWhen(rule.when, where),
    userIdPath: path(rule.userId, 'userId'),
    userIdPattern:
      rule.userIdPattern === undefined
        ? undefined
        : compileUserIdPattern(rule.userIdPattern, where),
    timePath: rule.time === undefined ? undefined : path(rule.time, 'time'),
    timeFormat: rule.timeFormat,
    timeFallback: rule.timeFallback ?? 'reject',
    parsePaths: Object.keys(rule.parse ?? {}).map((key) => path(key, 'parse')),
  };
}

function compileUserIdPattern(pattern: string, where: string): RegExp {
  const regex = compileRegex(pattern, `${where} userIdPattern`);
  if (captureGroupCount(regex) === 0) {
    throw new Error(
      `${where} userIdPattern /${pattern}/ has no capture group; wrap the digits in ( ) or ` +
        '(?<id> )'
    );
  }
  return regex;
}

function compileTextPattern(bot: BotConfig): RegExp {
  const where = `bot '${bot.name}' pattern`;
  if (bot.pattern === undefined) {
    throw new Error(
      `bot '${bot.name}' has format text but no pattern; add a regular expression with named ` +
        'groups, for example (?<level>\\w+) (?<msg>.*)'
    );
  }
  const regex = compileRegex(bot.pattern, where);
  if (!/\(\?<[A-Za-z_$][\w$]*>/.test(regex.source)) {
    throw new Error(
      `${where} /${bot.pattern}/ has no named group; name the fields with (?<name> )`
    );
  }
  return regex;
}

function captureGroupCount(regex: RegExp): number {
  // An empty alternative always matches, and the match array has one slot per group.
  return new RegExp(`${regex.source}|`, regex.flags).exec('')!.length - 1;
}
