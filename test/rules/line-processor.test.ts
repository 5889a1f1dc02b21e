import { describe, expect, it } from 'vitest';
import { compileBot } from '../../src/rules/compile-bot.js';
import { createLineProcessor } from '../../src/rules/line-processor.js';
import {
  bodiesOf,
  expectedBody,
  makeBot,
  NOW_MS,
  processFile,
  processorOptions,
  writeTempLog,
} from './support.js';

const TIME = 1773832103;
const RULES = [
  {
    event: 'appointment_open',
    when: { msg: 'appointment created' },
    userId: 'userId',
    time: 'time',
  },
  {
    name: 'cancel',
    event: 'appointment_cancel',
    when: { msg: { in: ['appointment cancelled', 'Запись отменена'] } },
    userId: 'userId',
    time: 'time',
  },
];
const OPEN = expectedBody('1806953', 'appointment_open', TIME);
const CANCEL = expectedBody('1806953', 'appointment_cancel', TIME);
const openLine = `{"msg":"appointment created","userId":1806953,"time":${TIME}}`;
const cancelLine = `{"msg":"Запись отменена","userId":1806953,"time":${TIME}}`;

function run(content: string | Buffer, extra: Record<string, unknown> = {}, now = NOW_MS) {
  const processor = createLineProcessor(makeBot({ rules: RULES, ...extra }), processorOptions(now));
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return processor.process(buf, 0, buf.length, 0, !buf.toString().endsWith('\n'));
}

for (const prefilter of [true, false]) {
  describe(`line processor (prefilter ${prefilter})`, () => {
    const options = { prefilter };

    it('strips CRLF endings', () => {
      const result = run(`${openLine}\r\n${cancelLine}\r\n`, options);
      expect(bodiesOf(result.events)).toEqual([OPEN, CANCEL]);
    });

    it('strips BOM at file start', () => {
      const result = run(`\uFEFF${openLine}\n`, options);
      expect(bodiesOf(result.events)).toEqual([OPEN]);
      expect(result.events[0]!.offset).toBe(0);
    });

    it('strips leading NUL padding', () => {
      const content = Buffer.concat([Buffer.alloc(4096), Buffer.from(`${openLine}\n`)]);
      const result = run(content, options);
      expect(bodiesOf(result.events)).toEqual([OPEN]);
      expect(result.events[0]!.offset).toBe(0);
      expect(result.events[0]!.end).toBe(content.length);
    });

    it('ignores blank lines', () => {
      const result = run(`\n\r\n${openLine}\n\n`, options);
      expect(result.lines).toBe(4);
      expect(result.events).toHaveLength(1);
      expect(result.skippedNotJson + result.skippedNoMatch + result.skippedPrefiltered).toBe(0);
    });

    it('survives invalid UTF-8', () => {
      const broken = Buffer.from([
        0x7b, 0x22, 0x6d, 0x73, 0x67, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
      ]);
      const content = Buffer.concat([
        broken,
        Buffer.from(`\n${openLine}\n`),
        Buffer.from([0xc3, 0x0a]),
      ]);
      const result = run(content, options);
      expect(bodiesOf(result.events)).toEqual([OPEN]);
      expect(result.lines).toBe(3);
    });

    it('takes final line without newline', () => {
      const result = run(`${cancelLine}\n${openLine}`, options);
      expect(bodiesOf(result.events)).toEqual([CANCEL, OPEN]);
      expect(result.events[1]!.end).toBe(Buffer.byteLength(`${cancelLine}\n${openLine}`));
    });

    it('counts matches per rule', () => {
      const result = run(`${openLine}\n${cancelLine}\n${cancelLine}\n`, options);
      expect([...result.matchedByRule]).toEqual([
        ['appointment_open#0', 1],
        ['cancel', 2],
      ]);
    });
  });
}

describe('line processor', () => {
  it('reports file offsets per chunk', () => {
    const processor = createLineProcessor(makeBot({ rules: RULES }), processorOptions());
    const padding = Buffer.from('x'.repeat(10));
    const buf = Buffer.concat([padding, Buffer.from(`${openLine}\n${cancelLine}\n`), padding]);
    const end = buf.length - padding.length;
    const result = processor.process(buf, padding.length, end, 5000);
    const firstEnd = 5000 + Buffer.byteLength(`${openLine}\n`);
    expect(result.events.map(({ offset, end: lineEnd }) => [offset, lineEnd])).toEqual([
      [5000, firstEnd],
      [firstEnd, 5000 + end - padding.length],
    ]);
  });

  it('keeps BOM after file start', () => {
    const processor = createLineProcessor(makeBot({ rules: RULES }), processorOptions());
    const buf = Buffer.from(`\uFEFF${openLine}\n`);
    expect(processor.process(buf, 0, buf.length, 100).skippedNotJson).toBe(1);
  });

  it('skips JSON that is not an object', () => {
    const result = run('[1,2]\n"appointment created"\n42\nnull\n{"msg":\n', { prefilter: false });
    expect(result.skippedNotJson).toBe(5);
  });

  it('uses first matching rule', () => {
    const rules = [
      { name: 'first', event: 'appointment_cancel', when: { userId: { gt: 0 } }, userId: 'userId' },
      ...RULES,
    ];
    const result = run(`${openLine}\n`, { rules });
    expect(result.events.map((event) => event.rule)).toEqual(['first']);
  });

  it('parses JSON string fields', () => {
    const payload = JSON.stringify(JSON.stringify({ action: 'book', user: { id: '1806953' } }));
    const rules = [
      {
        event: 'appointment_open',
        when: { 'payload.action': 'book' },
        userId: 'payload.user.id',
        time: 'ts',
        parse: { payload: 'json' },
      },
    ];
    const result = run(`{"ts":${TIME},"payload":${payload}}\n{"ts":1,"payload":"{broken"}\n`, {
      rules,
      prefilter: false,
    });
    expect(bodiesOf(result.events)).toEqual([OPEN]);
    expect(result.skippedNoMatch).toBe(1);
  });

  it('flags future and old times', () => {
    const future = `{"msg":"appointment created","userId":1806953,"time":${TIME + 3600}}`;
    const old = `{"msg":"appointment created","userId":1806953,"time":${TIME - 200 * 86400}}`;
    const result = run(`${future}\n${old}\n${openLine}\n`, {}, TIME * 1000);
    expect(result.events.map((event) => event.timeSuspect)).toEqual(['future', 'old', undefined]);
    expect(result.events[0]!.event.timestamp).toBe(TIME + 3600);
  });

  it('falls back to read time', () => {
    const rules = [{ ...RULES[0], timeFallback: 'readTime' }];
    const result = run('{"msg":"appointment created","userId":1806953,"time":"soon"}\n', { rules });
    expect(result.events.map((event) => event.event.timestamp)).toEqual([NOW_MS / 1000]);
  });

  it('rejects unusable time', () => {
    const line = '{"msg":"appointment created","userId":1806953,"time":"soon"}\n';
    const result = run(line);
    expect(result.invalid).toEqual([
      {
        eventName: 'appointment_open',
        bot: 'mfc_bot',
        rule: 'appointment_open#0',
        reason:
          "invalid time: 'time' is a string that is not an epoch number or ISO 8601; set timeFormat for other formats",
        offset: 0,
        end: Buffer.byteLength(line),
        userId: '1806953',
      },
    ]);
  });

  it('rejects missing default time', () => {
    const rules = [
      { event: 'appointment_open', when: { msg: 'appointment created' }, userId: 'userId' },
    ];
    const result = run('{"msg":"appointment created","userId":1806953}\n', { rules });
    expect(result.invalid[0]!.reason).toMatch(/^invalid time: the record has no time field/);
  });

  it('rejects uncounted event type', () => {
    const bot = makeBot({ rules: [{ ...RULES[0], event: 'appointment_moved' }] });
    expect(() => createLineProcessor(bot, processorOptions())).toThrow(
      "bot 'mfc_bot' rule 'appointment_moved#0': event 'appointment_moved' is not in tracker.events"
    );
  });

  it('compiles each bot once', () => {
    const bot = makeBot({ rules: RULES });
    expect(compileBot(bot)).toBe(compileBot(bot));
  });

  it('reads a real file in small chunks', () => {
    const lines = [];
    for (let index = 0; index < 500; index++) {
      lines.push(index % 50 === 0 ? openLine : `{"msg":"update received","n":${index}}`);
    }
    const file = writeTempLog(`${lines.join('\n')}\n`);
    const result = processFile(makeBot({ rules: RULES }), file, 1024);
    expect(result.events).toHaveLength(10);
    expect(result.lines).toBe(500);
    expect(result.skippedPrefiltered).toBe(490);
  });
});
