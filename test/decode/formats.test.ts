import { describe, expect, it } from 'vitest';
import { createLineProcessor } from '../../src/rules/line-processor.js';
import {
  bodiesOf,
  expectedBody,
  makeBot,
  processFile,
  processorOptions,
  utcSeconds,
  writeTempLog,
} from '../rules/support.js';

const OPEN = expectedBody('1806953', 'appointment_open', utcSeconds(18, 11, 8, 23));
const CANCEL = expectedBody('1806953', 'appointment_cancel', utcSeconds(18, 11, 10, 5));
const PINO_RULES = [
  { event: 'appointment_open', when: { msg: 'appointment created' }, userId: 'userId' },
  { event: 'appointment_cancel', when: { msg: 'Запись отменена' }, userId: 'userId' },
];

// A bot line of more than 16 KiB, which Docker's json-file driver splits into parts.
const LONG_LINE = JSON.stringify({
  level: 30,
  time: Date.UTC(2026, 2, 18, 11, 8, 23, 816),
  msg: 'appointment created',
  userId: 1806953,
  answers: 'Ответ заявителя; '.repeat(2500),
});
const CANCEL_LINE = JSON.stringify({
  level: 30,
  time: Date.UTC(2026, 2, 18, 11, 10, 5, 1),
  msg: 'Запись отменена',
  userId: 1806953,
});

function dockerLine(log: string, stream = 'stdout'): string {
  return `${JSON.stringify({ log, stream, time: '2026-03-18T11:08:23.900123456Z' })}\n`;
}

describe('docker format', () => {
  const parts = [LONG_LINE.slice(0, 16384), LONG_LINE.slice(16384, 32768), LONG_LINE.slice(32768)];
  const content =
    dockerLine('bot started\n', 'stderr') +
    dockerLine(parts[0]!) +
    dockerLine('warning: slow response\n', 'stderr') +
    dockerLine(parts[1]!) +
    dockerLine(`${parts[2]}\n`) +
    dockerLine(`${CANCEL_LINE}\r\n`);

  it('joins split long line', () => {
    expect(parts[2]!.length).toBeGreaterThan(0);
    const result = processFile(
      makeBot({ format: 'docker', rules: PINO_RULES }),
      writeTempLog(content)
    );
    expect(bodiesOf(result.events)).toEqual([OPEN, CANCEL]);
    const firstPart = Buffer.byteLength(dockerLine('bot started\n', 'stderr'));
    expect(result.events[0]!.offset).toBe(firstPart);
    const lastPartEnd =
      Buffer.byteLength(content) - Buffer.byteLength(dockerLine(`${CANCEL_LINE}\r\n`));
    expect(result.events[0]!.end).toBe(lastPartEnd);
    expect(result.skippedNotJson).toBe(2);
    expect(result.pendingOffset).toBeNull();
  });

  it('holds pending offset mid-line', () => {
    const processor = createLineProcessor(
      makeBot({ format: 'docker', rules: PINO_RULES }),
      processorOptions()
    );
    const buf = Buffer.from(content);
    const first = buf.indexOf(0x0a) + 1;
    const second = buf.indexOf(0x0a, first) + 1;
    const third = buf.indexOf(0x0a, second) + 1;
    expect(processor.process(buf, 0, third, 0).events).toEqual([]);
    expect(processor.pendingOffset()).toBe(first);
    const rest = processor.process(buf, third, buf.length, third);
    expect(bodiesOf(rest.events)).toEqual([OPEN, CANCEL]);
    expect(processor.pendingOffset()).toBeNull();
  });

  it('reset drops partial line', () => {
    const processor = createLineProcessor(
      makeBot({ format: 'docker', rules: PINO_RULES }),
      processorOptions()
    );
    const buf = Buffer.from(dockerLine(parts[0]!));
    processor.process(buf, 0, buf.length, 0);
    expect(processor.pendingOffset()).toBe(0);
    processor.reset();
    expect(processor.pendingOffset()).toBeNull();
  });

  it('matches escaped python line inside', () => {
    const inner =
      '{"asctime": "2026-03-18 14:08:23,816", "message": "\\u0417\\u0430\\u043f\\u0438\\u0441\\u044c' +
      ' \\u0441\\u043e\\u0437\\u0434\\u0430\\u043d\\u0430", "user_id": 1806953}';
    const bot = makeBot({
      format: 'docker',
      timezone: 'Europe/Moscow',
      rules: [
        { event: 'appointment_open', when: { message: 'Запись создана' }, userId: 'user_id' },
      ],
    });
    const result = processFile(bot, writeTempLog(dockerLine(`${inner}\n`)));
    expect(bodiesOf(result.events)).toEqual([OPEN]);
  });

  it('matches plain text log field', () => {
    const bot = makeBot({
      format: 'docker',
      rules: [
        {
          event: 'appointment_open',
          when: { log: { regex: '^appointment created' } },
          userId: 'log',
          userIdPattern: 'user=(?<id>\\d+)',
        },
      ],
    });
    const result = processFile(bot, writeTempLog(dockerLine('appointment created user=1806953\n')));
    const dockerTime = Math.floor(Date.UTC(2026, 2, 18, 11, 8, 23, 900) / 1000);
    expect(bodiesOf(result.events)).toEqual([
      expectedBody('1806953', 'appointment_open', dockerTime),
    ]);
  });
});

describe('cri format', () => {
  const time = '2026-03-18T11:08:24.000000001Z';
  const split = LONG_LINE.indexOf('"msg"') + 10;
  const content =
    `${time} stderr F bot started\n` +
    `${time} stdout P ${LONG_LINE.slice(0, split)}\n` +
    `${time} stderr F warning: slow response\n` +
    `${time} stdout P ${LONG_LINE.slice(split, split + 100)}\n` +
    `${time} stdout F ${LONG_LINE.slice(split + 100)}\n` +
    `${time} stdout F ${CANCEL_LINE}\n` +
    'not a cri line\n';

  it('joins P parts until F', () => {
    const result = processFile(
      makeBot({ format: 'cri', rules: PINO_RULES }),
      writeTempLog(content)
    );
    expect(bodiesOf(result.events)).toEqual([OPEN, CANCEL]);
    expect(result.events[0]!.offset).toBe(Buffer.byteLength(`${time} stderr F bot started\n`));
    expect(result.skippedNotJson).toBe(3);
    expect(result.pendingOffset).toBeNull();
  });

  it('reports pending P part', () => {
    const file = writeTempLog(`${time} stdout P ${LONG_LINE.slice(0, split)}\n`);
    const result = processFile(makeBot({ format: 'cri', rules: PINO_RULES }), file);
    expect(result.events).toEqual([]);
    expect(result.pendingOffset).toBe(0);
  });
});

describe('pm2 format', () => {
  const open = JSON.stringify({
    level: 30,
    time: Date.UTC(2026, 2, 18, 11, 8, 23, 816),
    msg: 'appointment created',
    userId: 1806953,
    office: 'МФЦ Тверской',
  });
  const record = (message: string, type = 'out') =>
    `${JSON.stringify({ message, timestamp: '2026-03-18T11:10:06.000Z', type, process_id: 0, app_name: 'bot' })}\n`;
  const content =
    record(`${open}\n${CANCEL_LINE}\n`) +
    record('{"level":30,"msg":"appointment cr') +
    record('Error: boom\n', 'err') +
    record(`eated","userId":"42","time":${Date.UTC(2026, 2, 18, 11, 10, 5)}}\nplain text\n`);

  it('splits chunks and joins halves', () => {
    const result = processFile(
      makeBot({ format: 'pm2', rules: PINO_RULES }),
      writeTempLog(content)
    );
    expect(bodiesOf(result.events)).toEqual([
      OPEN,
      CANCEL,
      expectedBody('42', 'appointment_open', utcSeconds(18, 11, 10, 5)),
    ]);
    const secondRecord = Buffer.byteLength(record(`${open}\n${CANCEL_LINE}\n`));
    expect(result.events[2]!.offset).toBe(secondRecord);
    expect(result.events[2]!.end).toBe(Buffer.byteLength(content));
    expect(result.skippedNotJson).toBe(2);
    expect(result.pendingOffset).toBeNull();
  });

  it('reports carried half line', () => {
    const file = writeTempLog(record('{"level":30,"msg":"appointment cr'));
    const result = processFile(makeBot({ format: 'pm2', rules: PINO_RULES }), file);
    expect(result.events).toEqual([]);
    expect(result.pendingOffset).toBe(0);
  });
});

describe('text format', () => {
  const pattern =
    '^(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2},\\d{3}) (?<level>\\w+) (?<logger>[\\w.]+): (?<message>.*)$';
  const bot = makeBot({
    format: 'text',
    pattern,
    timezone: 'Europe/Moscow',
    rules: [
      {
        event: 'appointment_open',
        when: { message: { regex: '^appointment created ' } },
        userId: 'message',
        userIdPattern: 'user_id=(\\d+)',
        time: 'time',
      },
      {
        event: 'appointment_cancel',
        when: { message: { contains: 'запись отменена' }, level: 'INFO' },
        userId: 'message',
        userIdPattern: 'user_id=(\\d+)',
        time: 'time',
      },
    ],
  });
  const content =
    '2026-03-18 14:08:23,123 INFO bot: appointment created user_id=1806953\r\n' +
    'Traceback (most recent call last):\r\n' +
    '2026-03-18 14:09:00,000 INFO bot: update received user_id=5793870814\r\n' +
    '2026-03-18 14:10:05,001 INFO bot: запись отменена user_id=1806953\r\n';

  it('matches python logging lines', () => {
    const result = processFile(bot, writeTempLog(content));
    expect(bodiesOf(result.events)).toEqual([OPEN, CANCEL]);
    expect(result.skippedNotJson).toBe(1);
    expect(result.skippedNoMatch).toBe(1);
  });

  it('rejects pattern without groups', () => {
    // The config schema rejects it too; the processor checks again for configs built in code.
    const noGroups = { ...bot, pattern: '^(\\S+) (.*)$' };
    expect(() => createLineProcessor(noGroups, processorOptions())).toThrow(/named group/);
  });

  it('rejects missing pattern', () => {
    const noPattern = { ...bot, pattern: undefined };
    expect(() => createLineProcessor(noPattern, processorOptions())).toThrow(/no pattern/);
  });
});
