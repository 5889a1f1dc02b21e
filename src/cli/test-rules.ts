import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import split2 from 'split2';
import type { AgentConfig, BotConfig } from '../config/schema.js';
import { buildRequestBody } from '../events/event.js';
import { type LineVerdict, RuleTester } from '../rules/rule-tester.js';

/** Dependencies of `test-rules`: the config loader, and outputs that tests can replace. */
export interface TestRulesCommandDeps {
  loadConfig: (path: string) => Promise<{ config: AgentConfig }>;
  /** Destination of the report, standard output by default. */
  output?: { write(text: string): unknown };
  /** Destination of errors and warnings, standard error by default. */
  errorOutput?: { write(text: string): unknown };
  /** Lines read when no file is given, standard input by default. */
  input?: NodeJS.ReadableStream;
  /** Clock in epoch ms for the time plausibility check, `Date.now` by default. */
  now?: () => number;
  /** Receiver of the exit code, which sets `process.exitCode` by default. */
  setExitCode?: (code: number) => void;
}

/** Options of one `test-rules` run. */
export interface TestRulesOptions {
  config: string;
  bot?: string;
  json?: boolean;
  files: string[];
}

/**
 * Adds `test-rules --config FILE [--bot NAME] [--json] [LOGFILE...]`: explains for every line
 * which rule matched and the request body it would send, or why no event. Sends nothing and
 * touches no state. Exits with 1 when the config or a file cannot be read.
 */
export function registerTestRulesCommand(program: Command, deps: TestRulesCommandDeps): void {
  program
    .command('test-rules')
    .description(
      'Show, line by line, which rule matches a log line and the request it would send, or why none does. Reads standard input when no file is given. Sends nothing.'
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML) holding the rules')
    .option('--bot <name>', 'bot whose rules to apply; required when the config has several')
    .option('--json', 'print one JSON object per line and one for the summary')
    .argument('[logfile...]', 'log files to read; standard input when none')
    .action(async (files: string[], options: { config: string; bot?: string; json?: boolean }) => {
      const code = await runTestRules({ ...options, files }, deps);
      const setExitCode =
        deps.setExitCode ??
        ((value: number) => {
          process.exitCode = value;
        });
      setExitCode(code);
    });
}

/** Runs `test-rules` and returns its exit code: 0, or 1 when the config or a file is unreadable. */
export async function runTestRules(
  options: TestRulesOptions,
  deps: TestRulesCommandDeps
): Promise<number> {
  const output = deps.output ?? process.stdout;
  const errorOutput = deps.errorOutput ?? process.stderr;
  let config: AgentConfig;
  let bot: BotConfig;
  try {
    config = (await deps.loadConfig(options.config)).config;
    bot = chooseBot(config, options.bot);
  } catch (error) {
    errorOutput.write(`test-rules: ${(error as Error).message}\n`);
    return 1;
  }
  warnUncountedEvents(bot, config, errorOutput);
  const report = new Report(config.tracker.region, bot.format === 'text', Boolean(options.json));
  const now = deps.now ?? Date.now;
  const context = {
    nowMs: now(),
    futureToleranceMs: config.futureToleranceMs,
    maxEventAgeMs: config.maxEventAgeMs,
  };
  let code = 0;
  const sources = options.files.length > 0 ? options.files : ['-'];
  for (const source of sources) {
    let tester: RuleTester;
    try {
      tester = new RuleTester(bot, context);
    } catch (error) {
      errorOutput.write(`test-rules: ${(error as Error).message}\n`);
      return 1;
    }
    const label = options.files.length > 1 ? source : null;
    try {
      const input = source === '-' ? (deps.input ?? process.stdin) : createReadStream(source);
      await explainStream(input, tester, label, report, output);
    } catch (error) {
      errorOutput.write(
        `test-rules: cannot read ${source}: ${(error as Error).message}; check the path and permissions\n`
      );
      code = 1;
    }
  }
  output.write(report.summary());
  return code;
}

function chooseBot(config: AgentConfig, name: string | undefined): BotConfig {
  const names = config.bots.map((bot) => bot.name).join(', ');
  if (name === undefined) {
    if (config.bots.length === 1) return config.bots[0]!;
    throw new Error(`the config has several bots (${names}); choose one with --bot NAME`);
  }
  const bot = config.bots.find((candidate) => candidate.name === name.replace(/^@/, ''));
  if (bot === undefined) throw new Error(`no bot named '${name}' in the config; bots: ${names}`);
  return bot;
}

function warnUncountedEvents(
  bot: BotConfig,
  config: AgentConfig,
  errorOutput: { write(text: string): unknown }
): void {
  for (const rule of bot.rules) {
    if (!config.tracker.events.includes(rule.event)) {
      errorOutput.write(
        `test-rules: warning: event '${rule.event}' is not in tracker.events; the agent will not start with it\n`
      );
    }
  }
}

async function explainStream(
  input: NodeJS.ReadableStream,
  tester: RuleTester,
  label: string | null,
  report: Report,
  output: { write(text: string): unknown }
): Promise<void> {
  let lineNumber = 0;
  const lines = input.pipe(split2());
  // pipe() does not forward errors, so a read error would leave the iteration waiting forever.
  input.on('error', (error) => lines.destroy(error));
  for await (const line of lines as AsyncIterable<string>) {
    lineNumber++;
    report.countLine();
    const where = label === null ? `${lineNumber}` : `${label}:${lineNumber}`;
    for (const verdict of tester.explainLine(line)) {
      output.write(report.add(where, lineNumber, label, verdict));
    }
  }
}

/** Formats verdicts and counts them for the summary. */
class Report {
  private lines = 0;
  private readonly events = new Map<string, number>();
  private readonly skipped = new Map<string, number>();
  private invalid = 0;
  private timeSuspect = 0;

  constructor(
    private readonly region: string,
    private readonly textFormat: boolean,
    private readonly json: boolean
  ) {}

  add(where: string, line: number, file: string | null, verdict: LineVerdict): string {
    this.count(verdict);
    if (this.json) return `${JSON.stringify(this.toJson(line, file, verdict))}\n`;
    return `${where}: ${this.describe(verdict)}\n`;
  }

  summary(): string {
    const events = Object.fromEntries(this.events);
    const skipped = Object.fromEntries(this.skipped);
    if (this.json) {
      const summary = { lines: this.lines, events, invalid: this.invalid, skipped };
      return `${JSON.stringify({ summary: { ...summary, timeSuspect: this.timeSuspect } })}\n`;
    }
    const list = (map: Map<string, number>) =>
      map.size === 0 ? 'none' : [...map].map(([key, count]) => `${key} ${count}`).join(', ');
    return (
      'summary:\n' +
      `  lines: ${this.lines}\n` +
      `  events: ${list(this.events)}\n` +
      `  invalid: ${this.invalid}\n` +
      `  time suspect: ${this.timeSuspect}\n` +
      `  skipped: ${list(this.skipped)}\n`
    );
  }

  /** Counts one input line; a pm2 line may give several verdicts and a partial line none. */
  countLine(): void {
    this.lines++;
  }

  private count(verdict: LineVerdict): void {
    if (verdict.kind === 'event') {
      this.events.set(verdict.event.name, (this.events.get(verdict.event.name) ?? 0) + 1);
      if (verdict.timeSuspect !== undefined) this.timeSuspect++;
    } else if (verdict.kind === 'invalid') {
      this.invalid++;
    } else if (verdict.kind !== 'partial') {
      const reason = verdict.kind === 'blank' ? 'empty' : this.skipReason(verdict.kind);
      this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    }
  }

  private skipReason(kind: 'not_json' | 'no_match'): string {
    return kind === 'not_json' && this.textFormat ? 'not_parsed' : kind;
  }

  private describe(verdict: LineVerdict): string {
    switch (verdict.kind) {
      case 'blank':
        return 'empty line';
      case 'partial':
        return 'part of a longer line, joined with the next lines';
      case 'not_json':
        return this.textFormat ? 'not parsed: the pattern does not match' : 'not JSON';
      case 'invalid':
        return `rule '${verdict.rule}' matched, but ${verdict.reason}`;
      case 'no_match':
        if (verdict.nearestRule === null) return 'no rule matched';
        return `no rule matched; nearest rule '${verdict.nearestRule}': ${verdict.failure}`;
      case 'event': {
        const body = buildRequestBody(verdict.event, this.region);
        const suspect =
          verdict.timeSuspect === undefined ? '' : ` (time suspect: ${verdict.timeSuspect})`;
        return `rule '${verdict.rule}' -> ${body}${suspect}`;
      }
    }
  }

  private toJson(line: number, file: string | null, verdict: LineVerdict): Record<string, unknown> {
    const base: Record<string, unknown> = file === null ? { line } : { file, line };
    switch (verdict.kind) {
      case 'event':
        return {
          ...base,
          result: 'event',
          rule: verdict.rule,
          event: verdict.event,
          body: buildRequestBody(verdict.event, this.region),
          ...(verdict.timeSuspect === undefined ? {} : { timeSuspect: verdict.timeSuspect }),
        };
      case 'invalid':
        return { ...base, result: 'invalid', rule: verdict.rule, reason: verdict.reason };
      case 'no_match':
        return {
          ...base,
          result: 'no_match',
          nearestRule: verdict.nearestRule,
          failure: verdict.failure,
        };
      case 'not_json':
        return { ...base, result: this.skipReason('not_json') };
      case 'blank':
        return { ...base, result: 'empty' };
      case 'partial':
        return { ...base, result: 'partial' };
    }
  }
}
