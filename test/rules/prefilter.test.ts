import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLineProcessor } from '../../src/rules/line-processor.js';
import { buildPrefilter, findCandidateLines, groupByPrefix } from '../../src/rules/prefilter.js';
import { makeBot, processorOptions } from './support.js';

const literalsOf = (when: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  buildPrefilter(
    makeBot({ ...extra, rules: [{ event: 'appointment_open', when, userId: 'u' }] })
  )?.literals.map((literal) => literal.toString('latin1')) ?? null;

describe('prefilter literals', () => {
  it('uses ascii value as is', () => {
    expect(literalsOf({ msg: 'appointment created' })).toEqual(['appointment created']);
  });

  it('takes longest unescaped run', () => {
    expect(literalsOf({ msg: 'a "quoted" appointment/created' })).toEqual([' appointment']);
  });

  it('adds escaped cyrillic forms', () => {
    const forms = literalsOf({ msg: 'Запись' });
    expect(forms).toEqual([
      Buffer.from('Запись').toString('latin1'),
      '\\u0417\\u0430\\u043f\\u0438\\u0441\\u044c',
      '\\u0417\\u0430\\u043F\\u0438\\u0441\\u044C',
    ]);
  });

  it('escapes emoji as surrogate pair', () => {
    const forms = literalsOf({ msg: 'ok😀' });
    expect(forms).toContain('ok\\ud83d\\ude00');
    expect(forms).toContain('ok\\uD83D\\uDE00');
  });

  it('unions in and any', () => {
    expect(
      literalsOf({ any: [{ msg: { in: ['open', 'booked'] } }, { event: 'created' }] })
    ).toEqual(['open', 'booked', 'created']);
  });

  it('picks strongest of all', () => {
    expect(literalsOf({ level: 'info', msg: 'appointment created' })).toEqual([
      'appointment created',
    ]);
  });

  it('drops literal containing another', () => {
    const bot = makeBot({
      rules: [
        { event: 'appointment_open', when: { msg: 'appointment created' }, userId: 'u' },
        { event: 'appointment_cancel', when: { msg: { contains: 'appointment' } }, userId: 'u' },
      ],
    });
    expect(buildPrefilter(bot)?.literals.map(String)).toEqual(['appointment']);
  });

  it('gives booleans and null', () => {
    expect(literalsOf({ ok: true })).toEqual(['true']);
    expect(literalsOf({ ok: { eq: null } })).toEqual(['null']);
  });

  const none: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['regex only', { msg: { regex: '^appointment' } }, {}],
    ['exists only', { msg: { exists: true } }, {}],
    ['numbers only', { level: 30 }, {}],
    ['not only', { not: { msg: 'x' } }, {}],
    ['any with regex', { any: [{ msg: 'x' }, { msg: { regex: 'y' } }] }, {}],
    ['only escaped chars', { msg: '"\\' }, {}],
    ['prefilter false', { msg: 'appointment created' }, { prefilter: false }],
    ['docker format', { msg: 'appointment created' }, { format: 'docker' }],
  ];
  for (const [name, when, extra] of none) {
    it(`gives none for ${name}`, () => {
      expect(literalsOf(when, extra)).toBeNull();
    });
  }
});

describe('prefilter counts', () => {
  it('counts skipped lines', () => {
    const bot = makeBot({
      rules: [
        { event: 'appointment_open', when: { msg: 'appointment created' }, userId: 'userId' },
      ],
    });
    const processor = createLineProcessor(bot, processorOptions());
    const text =
      '{"msg":"update received"}\n\n\r\n' +
      '{"msg":"appointment created","userId":1,"time":1773832103}\n' +
      '{"msg":"appointment created?","userId":2}\n' +
      'appointment created but not json\n' +
      '{"msg":"message sent"}';
    const buf = Buffer.from(text);
    const result = processor.process(buf, 0, buf.length, 0, true);
    expect(result.lines).toBe(7);
    expect(result.events).toHaveLength(1);
    expect(result.skippedPrefiltered).toBe(2);
    expect(result.skippedNoMatch).toBe(1);
    expect(result.skippedNotJson).toBe(1);
  });
});

// ---- property: the prefilter never changes what is found -----------------------------------

/** Writes JSON as Python's json.dumps does: ", " and ": " separators, ASCII only. */
function pythonDumps(value: unknown, uppercaseHex = false): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value !== 'string') return JSON.stringify(value);
    let out = '"';
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index);
      const char = value[index]!;
      if (char === '"' || char === '\\') out += `\\${char}`;
      else if (char === '\n') out += '\\n';
      else if (char === '\t') out += '\\t';
      else if (code < 0x20 || code > 0x7e) {
        const hex = code.toString(16).padStart(4, '0');
        out += `\\u${uppercaseHex ? hex.toUpperCase() : hex}`;
      } else out += char;
    }
    return `${out}"`;
  }
  if (Array.isArray(value))
    return `[${value.map((item) => pythonDumps(item, uppercaseHex)).join(', ')}]`;
  const entries = Object.entries(value).map(
    ([key, item]) => `${pythonDumps(key, uppercaseHex)}: ${pythonDumps(item, uppercaseHex)}`
  );
  return `{${entries.join(', ')}}`;
}

/** Writes JSON as Go's encoding/json does: raw UTF-8 but `<`, `>`, `&` escaped. */
function goMarshal(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}

const WRITERS = [
  (value: unknown) => JSON.stringify(value),
  (value: unknown) => pythonDumps(value),
  (value: unknown) => pythonDumps(value, true),
  goMarshal,
];

const CHARS = [
  'a',
  'b',
  'p',
  'x',
  ' ',
  '-',
  ':',
  '"',
  '\\',
  '/',
  '<',
  '&',
  '\n',
  '\t',
  'д',
  'я',
  'Ж',
  '€',
  '😀',
  '\u2028',
  '0',
  '7',
];
const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 10 }).map((chars) => chars.join(''));
const scalar = fc.oneof(
  text,
  text,
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.constant(null)
);
const PATHS = ['msg', 'kind', 'note', 'nested.msg', 'nested.tag'];

const record = fc.record(
  {
    msg: text,
    kind: scalar,
    note: text,
    nested: fc.record({ msg: text, tag: scalar }, { requiredKeys: [] }),
    userId: fc.oneof(fc.integer({ min: 1, max: 9_999_999 }), fc.constant('x')),
    time: fc.constant(1773832103123),
  },
  { requiredKeys: ['userId', 'time'] }
);

function valuesOf(records: readonly Record<string, unknown>[]): unknown[] {
  const values: unknown[] = [];
  for (const item of records) {
    for (const key of ['msg', 'kind', 'note']) if (item[key] !== undefined) values.push(item[key]);
    const nested = item.nested as Record<string, unknown> | undefined;
    if (nested?.msg !== undefined) values.push(nested.msg);
    if (nested?.tag !== undefined) values.push(nested.tag);
  }
  return values;
}

function ruleArbitrary(values: unknown[]) {
  const value = values.length > 0 ? fc.oneof(fc.constantFrom(...values), scalar) : scalar;
  const stringValue = value.filter((item): item is string => typeof item === 'string');
  const substring = fc
    .tuple(stringValue, fc.nat(), fc.nat())
    .map(([item, from, length]) =>
      item.slice(from % (item.length + 1), (from % (item.length + 1)) + length)
    );
  const condition = fc.oneof(
    { arbitrary: value, weight: 4 },
    { arbitrary: value.map((item) => ({ eq: item })), weight: 2 },
    {
      arbitrary: fc
        .array(
          value.filter((item) => item !== null),
          { minLength: 1, maxLength: 3 }
        )
        .map((items) => ({ in: items })),
      weight: 2,
    },
    { arbitrary: substring.map((item) => ({ contains: item })), weight: 3 },
    { arbitrary: value.map((item) => ({ not: item })), weight: 1 },
    { arbitrary: fc.constant({ exists: true }), weight: 1 }
  );
  const fieldBlock = fc
    .uniqueArray(fc.tuple(fc.constantFrom(...PATHS), condition), {
      minLength: 1,
      maxLength: 2,
      selector: ([path]) => path,
    })
    .map((entries) => Object.fromEntries(entries));
  const block = fc.oneof(
    { arbitrary: fieldBlock, weight: 5 },
    {
      arbitrary: fc
        .array(fieldBlock, { minLength: 1, maxLength: 3 })
        .map((blocks) => ({ any: blocks })),
      weight: 2,
    },
    {
      arbitrary: fc
        .array(fieldBlock, { minLength: 1, maxLength: 2 })
        .map((blocks) => ({ all: blocks })),
      weight: 1,
    }
  );
  return fc.array(
    fc
      .tuple(block, fc.constantFrom('appointment_open', 'appointment_cancel'))
      .map(([when, event]) => ({
        event,
        when,
        userId: 'userId',
        time: 'time',
      })),
    { minLength: 1, maxLength: 3 }
  );
}

describe('prefilter property', () => {
  it('finds same events as full parsing', () => {
    let prefiltered = 0;
    const scenario = fc
      .array(fc.tuple(record, fc.nat(WRITERS.length - 1)), { minLength: 1, maxLength: 25 })
      .chain((lines) =>
        ruleArbitrary(valuesOf(lines.map(([item]) => item))).map((rules) => ({ lines, rules }))
      );
    fc.assert(
      fc.property(scenario, ({ lines, rules }) => {
        const text = lines.map(([item, writer]) => WRITERS[writer]!(item)).join('\n');
        const buf = Buffer.from(`${text}\n`);
        const withPrefilter = makeBot({ rules });
        const withoutPrefilter = makeBot({ rules, prefilter: false });
        if (buildPrefilter(withPrefilter) !== null) prefiltered++;
        const fast = createLineProcessor(withPrefilter, processorOptions());
        const full = createLineProcessor(withoutPrefilter, processorOptions());
        const fastResult = fast.process(buf, 0, buf.length, 0);
        const fullResult = full.process(buf, 0, buf.length, 0);
        expect(fastResult.events).toEqual(fullResult.events);
        expect(fastResult.invalid).toEqual(fullResult.invalid);
        expect(fastResult.matchedByRule).toEqual(fullResult.matchedByRule);
        expect(fastResult.lines).toBe(fullResult.lines);
      }),
      { numRuns: 400 }
    );
    // The runs must exercise the prefilter, not only fall back to full parsing.
    expect(prefiltered).toBeGreaterThan(100);
  });
});

describe('prefilter literal groups', () => {
  const created = Buffer.from('appointment created');
  const cancelled = Buffer.from('appointment cancelled');

  it('groups literals sharing a prefix', () => {
    const groups = groupByPrefix([created, cancelled, Buffer.from('other')]);
    expect(groups.map((group) => group.prefix.toString())).toEqual(['appointment c', 'other']);
    expect(groups[0]!.literals).toHaveLength(2);
  });

  it('finds a literal after a bare prefix', () => {
    const prefilter = {
      literals: [created, cancelled],
      groups: groupByPrefix([created, cancelled]),
    };
    const view = Buffer.from(
      '{"text":"appointment c"}\n{"text":"appointment cx","msg":"appointment cancelled"}\n{}\n'
    );
    expect(findCandidateLines(prefilter, view)).toEqual([25]);
  });
});
