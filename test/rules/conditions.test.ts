import { describe, expect, it } from 'vitest';
import type { WhenBlock } from '../../src/config/schema.js';
import { compileFieldPath, getAtPath } from '../../src/rules/field-path.js';
import { compileWhen } from '../../src/rules/when-block.js';

const record = {
  msg: 'appointment created',
  level: 30,
  ok: true,
  removed: null,
  text: 'Запись на приём создана',
  items: [{ id: 7 }, { id: 8, tags: ['a', 'b'] }],
  'user.id': 1806953,
  meta: { 'x.y': { b: 'deep' }, "it's": 1 },
};

describe('field paths', () => {
  const cases: [string, unknown][] = [
    ['msg', 'appointment created'],
    ['items.1.id', 8],
    ['items.1.tags.0', 'a'],
    ['["user.id"]', 1806953],
    ["['user.id']", 1806953],
    ['meta["x.y"].b', 'deep'],
    ['meta["it\'s"]', 1],
    ['items.2.id', undefined],
    ['items.x', undefined],
    ['msg.length', undefined],
    ['user.id', undefined],
  ];
  for (const [path, expected] of cases) {
    it(`reads ${path}`, () => {
      expect(getAtPath(record, compileFieldPath(path))).toBe(expected);
    });
  }

  for (const bad of ['a..b', 'a.', '.a', 'a[x]', 'a["x"', 'a["x"]b']) {
    it(`rejects ${bad}`, () => {
      expect(() => compileFieldPath(bad)).toThrow(`invalid field path '${bad}'`);
    });
  }
});

describe('when blocks', () => {
  const matching: [string, WhenBlock][] = [
    ['plain equality', { msg: 'appointment created' }],
    ['eq operator', { level: { eq: 30 } }],
    ['boolean equality', { ok: true }],
    ['null equality', { removed: null }],
    ['in list', { level: { in: [20, 30] } }],
    ['regex', { msg: { regex: '^appointment (created|cancelled)$' } }],
    ['regex on number', { level: { regex: '^3' } }],
    ['case-insensitive regex', { msg: { regex: '(?i)^APPOINTMENT' } }],
    ['contains cyrillic', { text: { contains: 'на приём' } }],
    ['exists', { 'items.0.id': { exists: true } }],
    ['not exists', { 'items.5': { exists: false } }],
    ['gt and lte', { level: { gt: 20, lte: 30 } }],
    ['not operator', { msg: { not: 'update received' } }],
    ['all block', { all: [{ msg: 'appointment created' }, { level: 30 }] }],
    ['any block', { any: [{ msg: 'x' }, { level: 30 }] }],
    ['not block', { not: { msg: 'update received' } }],
    ['nested combinators', { any: [{ not: { level: 30 } }, { all: [{ ok: true }] }] }],
  ];
  for (const [name, block] of matching) {
    it(`matches on ${name}`, () => {
      expect(compileWhen(block, 'test').test(record)).toBe(true);
      expect(compileWhen(block, 'test').explain(record).matched).toBe(true);
    });
  }

  const failing: [string, WhenBlock, string][] = [
    [
      'plain equality',
      { msg: 'update received' },
      'msg: expected "update received", got "appointment created"',
    ],
    ['type mismatch', { level: '30' }, 'level: expected "30", got 30'],
    ['missing field', { user: 1 }, 'user: expected 1, got nothing'],
    ['in list', { level: { in: [20, 40] } }, 'level: expected one of [20, 40], got 30'],
    [
      'regex',
      { msg: { regex: '^update' } },
      'msg: expected to match /^update/, got "appointment created"',
    ],
    ['gt', { level: { gt: 30 } }, 'level: expected a number > 30, got 30'],
    [
      'not exists',
      { msg: { exists: false } },
      'msg: expected to be missing, got "appointment created"',
    ],
    ['not block', { not: { level: 30 } }, 'not: the negated block holds'],
    ['long value', { text: 'x' }, 'text: expected "x", got "Запись на приём создана"'],
    [
      'second condition',
      { msg: 'appointment created', level: 40, ok: false },
      'level: expected 40, got 30',
    ],
  ];
  for (const [name, block, failure] of failing) {
    it(`fails on ${name}`, () => {
      const check = compileWhen(block, 'test');
      expect(check.test(record)).toBe(false);
      const explanation = check.explain(record);
      expect(explanation.matched).toBe(false);
      expect(explanation.failure).toBe(failure);
    });
  }

  it('counts passing conditions', () => {
    const check = compileWhen({ msg: 'appointment created', level: 40, ok: true }, 'test');
    expect(check.explain(record).passed).toBe(2);
  });

  it('truncates shown values', () => {
    const long = { text: 'a'.repeat(100) };
    const failure = compileWhen({ text: 'b' }, 'test').explain(long).failure!;
    expect(failure).toBe(`text: expected "b", got "${'a'.repeat(39)}...`);
  });

  it('explains nearest any branch', () => {
    const check = compileWhen(
      { any: [{ msg: 'x' }, { msg: 'appointment created', level: 1 }] },
      'r'
    );
    expect(check.explain(record).failure).toBe(
      'any: no branch holds; nearest fails on level: expected 1, got 30'
    );
  });

  it('rejects invalid regex', () => {
    expect(() => compileWhen({ msg: { regex: '(' } }, "rule 'r'")).toThrow(
      /rule 'r' field 'msg': invalid regular expression \/\(\//
    );
  });

  it('rejects empty block', () => {
    expect(() => compileWhen({}, "rule 'r'")).toThrow(/'when' block is empty/);
  });
});
