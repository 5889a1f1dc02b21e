import type { FieldCondition } from '../config/schema.js';
import { describeValue } from './describe-value.js';
import { compileRegex } from './regex.js';

type Scalar = string | number | boolean | null;

/**
 * A compiled condition on one value, with the expectation the rule tester prints when it fails.
 */
export interface ValueMatcher {
  test(value: unknown): boolean;
  /** Expected value in words, for example `"appointment created"` or `a number > 5`. */
  readonly expectation: string;
}

/**
 * Compiles one field condition. A plain scalar means equality; an object's operators must all
 * hold. String comparisons are exact, on the decoded (JSON-unescaped) value. Throws an error
 * naming `where` when a regex is invalid.
 */
export function compileFieldCondition(condition: FieldCondition, where: string): ValueMatcher {
  if (condition === null || typeof condition !== 'object') return equalTo(condition);
  const parts: ValueMatcher[] = [];
  const operators = condition as Record<string, unknown>;
  if ('eq' in operators) parts.push(equalTo(operators.eq as Scalar));
  if (operators.in !== undefined) parts.push(oneOf(operators.in as Scalar[]));
  if (operators.regex !== undefined) parts.push(matching(operators.regex as string, where));
  if (operators.contains !== undefined) parts.push(containing(operators.contains as string));
  if (operators.exists !== undefined) parts.push(existing(operators.exists as boolean));
  for (const operator of ['gt', 'gte', 'lt', 'lte'] as const) {
    if (operators[operator] !== undefined)
      parts.push(compare(operator, operators[operator] as number));
  }
  if (operators.not !== undefined) {
    parts.push(negate(compileFieldCondition(operators.not as FieldCondition, where)));
  }
  if (parts.length === 1) return parts[0]!;
  return {
    test: (value) => parts.every((part) => part.test(value)),
    expectation: parts.map((part) => part.expectation).join(' and '),
  };
}

/** Formats why `value` at `path` fails `matcher`, for the rule tester. */
export function describeFailure(path: string, matcher: ValueMatcher, value: unknown): string {
  return `${path}: expected ${matcher.expectation}, got ${describeValue(value)}`;
}

function equalTo(expected: Scalar | undefined): ValueMatcher {
  return {
    test: (value) => value === expected,
    expectation: describeValue(expected),
  };
}

function oneOf(values: readonly Scalar[]): ValueMatcher {
  const set = new Set<unknown>(values);
  return {
    test: (value) => set.has(value),
    expectation: `one of [${values.map((value) => describeValue(value)).join(', ')}]`,
  };
}

function matching(pattern: string, where: string): ValueMatcher {
  const regex = compileRegex(pattern, where);
  return {
    // Numbers are matched by their decimal text so a regex can test a status code.
    test: (value) =>
      typeof value === 'string'
        ? regex.test(value)
        : typeof value === 'number' && regex.test(String(value)),
    expectation: `to match /${pattern}/`,
  };
}

function containing(needle: string): ValueMatcher {
  return {
    test: (value) => typeof value === 'string' && value.includes(needle),
    expectation: `to contain ${describeValue(needle)}`,
  };
}

function existing(shouldExist: boolean): ValueMatcher {
  return {
    test: (value) => (value !== undefined) === shouldExist,
    expectation: shouldExist ? 'to exist' : 'to be missing',
  };
}

const COMPARATORS = {
  gt: { symbol: '>', holds: (a: number, b: number) => a > b },
  gte: { symbol: '>=', holds: (a: number, b: number) => a >= b },
  lt: { symbol: '<', holds: (a: number, b: number) => a < b },
  lte: { symbol: '<=', holds: (a: number, b: number) => a <= b },
} as const;

function compare(operator: keyof typeof COMPARATORS, bound: number): ValueMatcher {
  const { symbol, holds } = COMPARATORS[operator];
  return {
    // Only JSON numbers compare; a number written as a string is a different value.
    test: (value) => typeof value === 'number' && holds(value, bound),
    expectation: `a number ${symbol} ${bound}`,
  };
}

function negate(inner: ValueMatcher): ValueMatcher {
  return {
    test: (value) => !inner.test(value),
    expectation: `not ${inner.expectation}`,
  };
}
