import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bodiesOf,
  expectedBody,
  FIXTURES,
  makeBot,
  processFile,
  utcSeconds,
} from '../rules/support.js';

// Every fixture contains the same two appointment events: booked at 14:08:23 and cancelled at
// 14:10:05 Moscow time (11:08:23 and 11:10:05 UTC) by user 1806953.
const OPEN = expectedBody('1806953', 'appointment_open', utcSeconds(18, 11, 8, 23));
const CANCEL = expectedBody('1806953', 'appointment_cancel', utcSeconds(18, 11, 10, 5));

function rules(field: string, open: unknown, cancel: unknown, extra: Record<string, unknown>) {
  return [
    { event: 'appointment_open', when: { [field]: open }, ...extra },
    { event: 'appointment_cancel', when: { [field]: cancel }, ...extra },
  ];
}

const cases = [
  {
    logger: 'pino',
    file: 'pino.log',
    bot: {
      rules: rules('msg', 'appointment created', 'запись отменена', {
        userId: 'userId',
        time: 'time',
      }),
    },
    expected: [
      expectedBody('1806953', 'appointment_open', utcSeconds(18, 11, 8, 23)),
      expectedBody('9007199254740993', 'appointment_cancel', utcSeconds(18, 11, 10, 5)),
    ],
  },
  {
    logger: 'winston',
    file: 'winston.log',
    bot: {
      rules: rules('message', 'appointment created', 'appointment cancelled', {
        userId: 'meta.user.id',
        time: 'timestamp',
      }),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'bunyan',
    file: 'bunyan.log',
    bot: {
      rules: rules(
        'msg',
        'appointment created',
        { in: ['appointment cancelled'] },
        {
          userId: 'userId',
        }
      ),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'python-json-logger',
    file: 'python-json-logger.log',
    bot: {
      timezone: 'Europe/Moscow',
      rules: rules(
        'message',
        'Запись создана',
        { contains: 'отменена' },
        {
          userId: 'user_id',
          time: 'asctime',
        }
      ),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'structlog',
    file: 'structlog.log',
    bot: {
      rules: rules('event', 'appointment created', 'appointment cancelled', { userId: 'user_id' }),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'loguru serialize',
    file: 'loguru.log',
    bot: {
      rules: rules('record.message', 'Запись создана', 'Запись отменена', {
        userId: 'record.extra.user_id',
      }),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'zap',
    file: 'zap.log',
    bot: {
      rules: rules('msg', 'appointment created', 'appointment cancelled', {
        userId: 'user_id',
        time: 'ts',
      }),
    },
    expected: [OPEN, CANCEL],
  },
  {
    logger: 'logrus',
    file: 'logrus.log',
    bot: {
      rules: rules('msg', 'appointment created', 'appointment cancelled', {
        userId: 'user_id',
        time: 'time',
      }),
    },
    expected: [OPEN, CANCEL],
  },
];

describe('logger fixtures', () => {
  for (const { logger, file, bot, expected } of cases) {
    it(`${logger} with prefilter`, () => {
      const result = processFile(makeBot(bot), path.join(FIXTURES, file));
      expect(result.invalid).toEqual([]);
      expect(bodiesOf(result.events)).toEqual(expected);
    });

    it(`${logger} without prefilter`, () => {
      const result = processFile(makeBot({ ...bot, prefilter: false }), path.join(FIXTURES, file));
      expect(result.invalid).toEqual([]);
      expect(bodiesOf(result.events)).toEqual(expected);
      expect(result.skippedNoMatch).toBe(result.lines - expected.length);
    });
  }

  it('python-json-logger skips escaped other lines', () => {
    const bot = cases.find((entry) => entry.logger === 'python-json-logger')!.bot;
    const result = processFile(makeBot(bot), path.join(FIXTURES, 'python-json-logger.log'));
    expect(result.lines).toBe(3);
    expect(result.skippedPrefiltered).toBe(1);
  });
});
