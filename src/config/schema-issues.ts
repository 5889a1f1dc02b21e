import type { z } from 'zod';
import { describeValue, isSecretPath, type KeyPath, valueAt } from './key-path.js';
import { allowedKeys } from './schema-keys.js';
import type { ProblemDraft } from './yaml-source.js';

type Issue = z.core.$ZodIssue;

/**
 * Turns zod issues into problems worded for the person editing the file: each names the
 * offending value (never the token's) and what is expected. `input` is the data that was
 * parsed, and `base` the key path of the schema the issues came from.
 */
export function issuesToDrafts(
  issues: readonly Issue[],
  input: unknown,
  base: KeyPath = []
): ProblemDraft[] {
  return issues.flatMap((issue) => issueToDrafts(issue, input, base));
}

function issueToDrafts(issue: Issue, input: unknown, base: KeyPath): ProblemDraft[] {
  const path = [...base, ...issue.path.map((segment) => toSegment(segment))];
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(path, key));
    case 'invalid_union':
      return unionDrafts(issue, input, path, value);
    case 'custom':
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: describeIssue(issue, path, value) }];
  }
}

function toSegment(segment: PropertyKey): string | number {
  return typeof segment === 'number' ? segment : String(segment);
}

function unknownKey(path: KeyPath, key: string): ProblemDraft {
  const allowed = allowedKeys(path);
  const list = allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : '';
  return { path: [...path, key], at: 'key', message: `unknown key '${key}'${list}` };
}

/**
 * A union fails as a whole. When only one alternative got past the type of the value (an
 * operator object in a condition, say), its own issues describe the fault better than the union does.
 */
function unionDrafts(
  issue: z.core.$ZodIssueInvalidUnion,
  input: unknown,
  path: KeyPath,
  value: unknown
): ProblemDraft[] {
  if (issue.message.startsWith('expected')) {
    return [{ path, message: withValue(path, value, issue.message) }];
  }
  const deeper = issue.errors.filter((errors) => !errors.every(isTypeMismatchAtRoot));
  if (deeper.length === 1) return issuesToDrafts(deeper[0] as Issue[], input, path);
  const expected = new Set<string>();
  for (const errors of issue.errors) {
    for (const error of errors) {
      if (error.code === 'invalid_type') expected.add(typePhrase(error.expected));
    }
  }
  const list = expected.size > 0 ? [...expected].join(' or ') : 'a value of another type';
  return [{ path, message: withValue(path, value, `expected ${list}`) }];
}

function isTypeMismatchAtRoot(issue: Issue): boolean {
  return issue.code === 'invalid_type' && issue.path.length === 0;
}

function describeIssue(issue: Issue, path: KeyPath, value: unknown): string {
  return withValue(path, value, expectation(issue));
}

/** Prefixes an expectation with what was found, leaving the value out for secrets. */
function withValue(path: KeyPath, value: unknown, expected: string): string {
  if (value === undefined) return `missing required value; ${expected}`;
  // `key:` with nothing after it parses as null.
  if (value === null) return `no value; ${expected}`;
  if (Array.isArray(value) && value.length === 0) return `empty list; ${expected}`;
  if (isSecretPath(path)) return expected;
  return `invalid value ${describeValue(value)}; ${expected}`;
}

function expectation(issue: Issue): string {
  // zod's own messages start with a capital letter; the schema's messages are lower case.
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typePhrase(issue.expected)}`;
    case 'invalid_value':
      return `allowed: ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return sizeExpectation(issue.origin, issue.inclusive ? '>=' : '>', issue.minimum);
    case 'too_big':
      return sizeExpectation(issue.origin, issue.inclusive ? '<=' : '<', issue.maximum);
    case 'invalid_format':
      return issue.format === 'regex' ? `expected text matching ${issue.pattern}` : issue.message;
    default:
      return issue.message;
  }
}

function sizeExpectation(origin: string, operator: string, bound: number | bigint): string {
  if (origin === 'string' && operator === '>=' && bound === 1) return 'expected a non-empty string';
  if (origin === 'string') return `expected a string of length ${operator} ${bound}`;
  if (origin === 'array' && operator === '>=') {
    return `expected at least ${bound} ${bound === 1 ? 'item' : 'items'}`;
  }
  if (origin === 'array') return `expected a list of ${operator} ${bound} items`;
  return `expected a number ${operator} ${bound}`;
}

function typePhrase(expected: string): string {
  switch (expected) {
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'null':
      return 'null';
    default:
      return `a ${expected}`;
  }
}
