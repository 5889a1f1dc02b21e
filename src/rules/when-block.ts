import type { FieldCondition, WhenBlock } from '../config/schema.js';
import { compileFieldCondition, describeFailure, type ValueMatcher } from './condition.js';
import { compileFieldPath, type FieldPath, getAtPath } from './field-path.js';

/** Result of a block on a record, for the rule tester's nearest-rule report. */
export interface Explanation {
  /** Whether the whole block holds. */
  matched: boolean;
  /** Conditions that hold; `any` counts its best branch and `not` counts as one. */
  passed: number;
  /** The first condition that fails, as `path: expected X, got Y`; null when matched. */
  failure: string | null;
}

/** A compiled `when` block. */
export interface BlockCheck {
  test(record: unknown): boolean;
  explain(record: unknown): Explanation;
}

/**
 * Compiles a `when` block: field paths map to conditions that must all hold, and `all`, `any`
 * and `not` combine nested blocks. A field literally named `all`, `any` or `not` is written
 * `["all"]`. Throws an error naming `where` for an invalid path or regex.
 */
export function compileWhen(block: WhenBlock, where: string): BlockCheck {
  const checks: BlockCheck[] = [];
  for (const [key, value] of Object.entries(block)) {
    if (value === undefined) continue;
    if (key === 'all') checks.push(allOf(blocks(value, key, where)));
    else if (key === 'any') checks.push(anyOf(blocks(value, key, where)));
    else if (key === 'not') checks.push(noneOf(compileWhen(value as WhenBlock, where)));
    else checks.push(field(compileFieldPathIn(key, where), value as FieldCondition, where));
  }
  if (checks.length === 0) {
    throw new Error(`${where}: a 'when' block is empty; give at least one field condition`);
  }
  return allOf(checks);
}

function blocks(value: unknown, key: string, where: string): BlockCheck[] {
  if (!Array.isArray(value)) throw new Error(`${where}: '${key}' must be a list of blocks`);
  return value.map((item) => compileWhen(item as WhenBlock, where));
}

function compileFieldPathIn(key: string, where: string): FieldPath {
  try {
    return compileFieldPath(key);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

function field(path: FieldPath, condition: FieldCondition, where: string): BlockCheck {
  const matcher: ValueMatcher = compileFieldCondition(condition, `${where} field '${path.source}'`);
  return {
    test: (record) => matcher.test(getAtPath(record, path)),
    explain(record) {
      const value = getAtPath(record, path);
      if (matcher.test(value)) return { matched: true, passed: 1, failure: null };
      return { matched: false, passed: 0, failure: describeFailure(path.source, matcher, value) };
    },
  };
}

function allOf(checks: readonly BlockCheck[]): BlockCheck {
  if (checks.length === 1) return checks[0]!;
  return {
    test(record) {
      for (const check of checks) if (!check.test(record)) return false;
      return true;
    },
    explain(record) {
      let passed = 0;
      let failure: string | null = null;
      for (const check of checks) {
        const result = check.explain(record);
        passed += result.passed;
        if (!result.matched && failure === null) failure = result.failure;
      }
      return { matched: failure === null, passed, failure };
    },
  };
}

function anyOf(checks: readonly BlockCheck[]): BlockCheck {
  return {
    test(record) {
      for (const check of checks) if (check.test(record)) return true;
      return false;
    },
    explain(record) {
      let best: Explanation | null = null;
      for (const check of checks) {
        const result = check.explain(record);
        if (result.matched) return result;
        if (best === null || result.passed > best.passed) best = result;
      }
      const failure = `any: no branch holds; nearest fails on ${best?.failure ?? 'nothing'}`;
      return { matched: false, passed: best?.passed ?? 0, failure };
    },
  };
}

function noneOf(check: BlockCheck): BlockCheck {
  return {
    test: (record) => !check.test(record),
    explain(record) {
      if (!check.test(record)) return { matched: true, passed: 1, failure: null };
      return { matched: false, passed: 0, failure: 'not: the negated block holds' };
    },
  };
}
