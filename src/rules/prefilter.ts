import type { BotConfig, FieldCondition, WhenBlock } from '../config/schema.js';
import { jsonLiteralsOf, jsonLiteralsOfScalar } from './json-literal.js';

/**
 * Byte literals such that a line containing none of them cannot match any rule of the bot, so
 * it is skipped without decoding. NOTE: a writer that escapes plain ASCII letters as `\u00XX`
 * defeats the search and its matching lines are skipped; `prefilter: false` turns it off.
 */
export interface Prefilter {
  readonly literals: readonly Buffer[];
  /** The literals grouped by a shared prefix, so each group costs one scan of the range. */
  readonly groups: readonly LiteralGroup[];
}

/** Literals that start with the same `prefix`; the range is searched for the prefix only. */
export interface LiteralGroup {
  readonly prefix: Buffer;
  readonly literals: readonly Buffer[];
}

/** Shortest shared prefix worth one scan for several literals; shorter ones hit too often. */
const MIN_SHARED_PREFIX_BYTES = 6;

type Literals = Buffer[] | null;

/**
 * Derives the prefilter of a bot from the string, boolean and null values its rules compare
 * for equality, `in` and `contains`. Returns null when the format is not `json`, when
 * `prefilter` is false, or when some rule gives no literal (only regex, exists, numbers or not).
 */
export function buildPrefilter(bot: BotConfig): Prefilter | null {
  if (bot.format !== 'json' || bot.prefilter === false) return null;
  const all: Buffer[] = [];
  for (const rule of bot.rules) {
    const literals = literalsOfBlock(rule.when);
    if (literals === null) return null;
    all.push(...literals);
  }
  const literals = minimalLiterals(all);
  return { literals, groups: groupByPrefix(literals) };
}

/**
 * Groups literals, in sorted order, while the group keeps a shared prefix of at least
 * `MIN_SHARED_PREFIX_BYTES`. A literal alone forms a group whose prefix is itself.
 */
export function groupByPrefix(literals: readonly Buffer[]): LiteralGroup[] {
  const sorted = [...literals].sort(Buffer.compare);
  const groups: LiteralGroup[] = [];
  let members: Buffer[] = [];
  let prefixLength = 0;
  const close = () => {
    if (members.length === 0) return;
    const prefix = members.length === 1 ? members[0]! : members[0]!.subarray(0, prefixLength);
    groups.push({ prefix, literals: members });
  };
  for (const literal of sorted) {
    const first = members[0];
    const shared = first === undefined ? 0 : sharedPrefixLength(first, literal, prefixLength);
    if (first !== undefined && shared >= MIN_SHARED_PREFIX_BYTES) {
      members.push(literal);
      prefixLength = shared;
    } else {
      close();
      members = [literal];
      prefixLength = literal.length;
    }
  }
  close();
  return groups;
}

function sharedPrefixLength(a: Buffer, b: Buffer, limit: number): number {
  const max = Math.min(a.length, b.length, limit);
  let length = 0;
  while (length < max && a[length] === b[length]) length++;
  return length;
}

/**
 * Scans `view` for the prefilter literals and returns the start indexes of the lines that hold
 * one, sorted and without repeats. A line ends at `\n` or at the end of `view`.
 */
export function findCandidateLines(prefilter: Prefilter, view: Buffer): number[] {
  const starts: number[] = [];
  for (const group of prefilter.groups) {
    const { prefix, literals } = group;
    const isWhole = literals.length === 1 && literals[0] === prefix;
    let from = 0;
    while (from < view.length) {
      const hit = view.indexOf(prefix, from);
      if (hit < 0) break;
      if (!isWhole && !literals.some((literal) => startsWithAt(view, hit, literal))) {
        // The prefix alone is no match; a literal may still start later on the same line.
        from = hit + 1;
        continue;
      }
      const lineStart = hit === 0 ? 0 : view.lastIndexOf(0x0a, hit - 1) + 1;
      starts.push(lineStart);
      const newline = view.indexOf(0x0a, hit + prefix.length);
      if (newline < 0) break;
      from = newline + 1;
    }
  }
  if (prefilter.groups.length > 1) {
    starts.sort((a, b) => a - b);
    return dedupeSorted(starts);
  }
  return starts;
}

function startsWithAt(view: Buffer, at: number, literal: Buffer): boolean {
  if (at + literal.length > view.length) return false;
  return view.compare(literal, 0, literal.length, at, at + literal.length) === 0;
}

function dedupeSorted(values: number[]): number[] {
  let uniqueCount = 0;
  for (let index = 0; index < values.length; index++) {
    if (uniqueCount === 0 || values[index] !== values[uniqueCount - 1]) {
      values[uniqueCount++] = values[index]!;
    }
  }
  values.length = uniqueCount;
  return values;
}

function literalsOfBlock(block: WhenBlock): Literals {
  // Conditions of a block must all hold, so the literals of any one of them suffice.
  const choices: Literals[] = [];
  for (const [key, value] of Object.entries(block)) {
    if (value === undefined) continue;
    if (key === 'all') choices.push(...(value as WhenBlock[]).map(literalsOfBlock));
    else if (key === 'any') choices.push(union((value as WhenBlock[]).map(literalsOfBlock)));
    else if (key !== 'not') choices.push(literalsOfCondition(value as FieldCondition));
  }
  return strongest(choices);
}

function literalsOfCondition(condition: FieldCondition): Literals {
  if (condition === null || typeof condition !== 'object') return jsonLiteralsOfScalar(condition);
  const operators = condition as Record<string, unknown>;
  const choices: Literals[] = [];
  if ('eq' in operators) choices.push(jsonLiteralsOfScalar(operators.eq));
  if (Array.isArray(operators.in)) choices.push(union(operators.in.map(jsonLiteralsOfScalar)));
  if (typeof operators.contains === 'string') choices.push(jsonLiteralsOf(operators.contains));
  return strongest(choices);
}

/** Every alternative must give literals, because a line may match any one of them. */
function union(alternatives: Literals[]): Literals {
  const all: Buffer[] = [];
  for (const literals of alternatives) {
    if (literals === null) return null;
    all.push(...literals);
  }
  return all;
}

/**
 * Picks the choice with the highest shortest-literal length per literal: long literals occur
 * by chance in fewer lines, and each literal costs one scan of the range.
 */
function strongest(choices: Literals[]): Literals {
  let best: Literals = null;
  let bestScore = 0;
  for (const literals of choices) {
    if (literals === null || literals.length === 0) continue;
    const score = Math.min(...literals.map((literal) => literal.length)) / literals.length;
    if (score > bestScore) {
      best = literals;
      bestScore = score;
    }
  }
  return best;
}

/** Drops repeats and every literal that contains another one, since the shorter finds it too. */
function minimalLiterals(literals: Buffer[]): Buffer[] {
  const unique = [...new Map(literals.map((literal) => [literal.toString('latin1'), literal]))];
  const minimal: Buffer[] = [];
  for (const [key, literal] of unique) {
    // Keys are distinct, so another key inside this one is strictly shorter.
    const redundant = unique.some(([otherKey]) => otherKey !== key && key.includes(otherKey));
    if (!redundant) minimal.push(literal);
  }
  return minimal;
}
