import { describe, expect, it } from 'vitest';
import { bodiesOf, expectedBody, makeBot, processFile, writeTempLog } from '../rules/support.js';

const TIME = 1773832103;
const OPEN_RULE = {
  event: 'appointment_open',
  when: { msg: 'appointment created' },
  userId: 'userId',
};

function line(userIdJson: string, extra = ''): string {
  return `{"msg":"appointment created","time":${TIME}816,"userId":${userIdJson}${extra}}\n`;
}

function bodyFor(userId: string): string {
  return expectedBody(userId, 'appointment_open', TIME);
}

describe('big user ids', () => {
  it('keeps 2^53 + 1 exact', () => {
    const result = processFile(
      makeBot({ rules: [OPEN_RULE] }),
      writeTempLog(line('9007199254740993'))
    );
    expect(bodiesOf(result.events)).toEqual([bodyFor('9007199254740993')]);
  });

  it('keeps max uint64 exact', () => {
    const file = writeTempLog(line('18446744073709551615'));
    const result = processFile(makeBot({ rules: [OPEN_RULE] }), file);
    expect(bodiesOf(result.events)).toEqual([bodyFor('18446744073709551615')]);
  });

  it('keeps python integral float digits', () => {
    const file = writeTempLog(line('9007199254740993.0'));
    const result = processFile(makeBot({ rules: [OPEN_RULE] }), file);
    expect(bodiesOf(result.events)).toEqual([bodyFor('9007199254740993')]);
  });

  it('keeps digit strings as written', () => {
    const file = writeTempLog(line('"12345678901234567890"'));
    const result = processFile(makeBot({ rules: [OPEN_RULE] }), file);
    expect(bodiesOf(result.events)).toEqual([bodyFor('12345678901234567890')]);
  });

  it('reads big id in parsed field', () => {
    const payload = JSON.stringify('{"user":{"id":9223372036854775807},"step":"done"}');
    const file = writeTempLog(
      `{"msg":"appointment created","time":${TIME},"payload":${payload}}\n`
    );
    const bot = makeBot({
      rules: [
        {
          event: 'appointment_open',
          when: { msg: 'appointment created', 'payload.step': 'done' },
          userId: 'payload.user.id',
          parse: { payload: 'json' },
        },
      ],
    });
    const result = processFile(bot, file);
    expect(bodiesOf(result.events)).toEqual([bodyFor('9223372036854775807')]);
  });

  it('reads big id in docker line', () => {
    const inner = `{"msg":"appointment created","time":${TIME},"userId":9007199254740995}`;
    const docker = `${JSON.stringify({ log: `${inner}\n`, stream: 'stdout', time: '2026-03-18T11:08:23Z' })}\n`;
    const result = processFile(
      makeBot({ format: 'docker', rules: [OPEN_RULE] }),
      writeTempLog(docker)
    );
    expect(bodiesOf(result.events)).toEqual([bodyFor('9007199254740995')]);
  });

  it('pulls big id out of text', () => {
    const file = writeTempLog(
      `{"msg":"appointment created","time":${TIME},"text":"booked by user 18446744073709551000 today"}\n`
    );
    const bot = makeBot({
      rules: [{ ...OPEN_RULE, userId: 'text', userIdPattern: 'user (\\d+)' }],
    });
    const result = processFile(bot, file);
    expect(bodiesOf(result.events)).toEqual([bodyFor('18446744073709551000')]);
  });
});

describe('invalid user ids', () => {
  const cases: [string, string][] = [
    ['18446744073709551616', "invalid user id: 'userId' is above the 64-bit range"],
    ['-1806953', "invalid user id: 'userId' is a negative number"],
    ['1806953.5', "invalid user id: 'userId' is a fractional number"],
    ['"180-69-53"', "invalid user id: 'userId' is a string that is not a decimal number"],
    ['""', "invalid user id: 'userId' is an empty string"],
    ['null', "invalid user id: 'userId' is null"],
    ['true', "invalid user id: 'userId' is a boolean"],
    ['{"id":1}', "invalid user id: 'userId' is an object"],
    [
      '1e25',
      "invalid user id: 'userId' is a number above 2^53 written with a fraction or an exponent",
    ],
  ];
  for (const [value, reason] of cases) {
    it(`rejects ${value}`, () => {
      const result = processFile(makeBot({ rules: [OPEN_RULE] }), writeTempLog(line(value)));
      expect(result.events).toEqual([]);
      expect(result.invalid).toHaveLength(1);
      expect(result.invalid[0]!.reason).toBe(reason);
      expect(result.invalid[0]!.timestamp).toBe(TIME);
      expect(result.invalid[0]!.rule).toBe('appointment_open#0');
    });
  }

  it('rejects missing id', () => {
    const file = writeTempLog(`{"msg":"appointment created","time":${TIME}000}\n`);
    const result = processFile(makeBot({ rules: [OPEN_RULE] }), file);
    expect(result.invalid.map((entry) => entry.reason)).toEqual([
      "invalid user id: 'userId' is missing",
    ]);
  });

  it('rejects text without id', () => {
    const file = writeTempLog(`{"msg":"appointment created","time":${TIME},"text":"no id here"}\n`);
    const bot = makeBot({
      rules: [{ ...OPEN_RULE, userId: 'text', userIdPattern: 'user (\\d+)' }],
    });
    const result = processFile(bot, file);
    expect(result.invalid.map((entry) => entry.reason)).toEqual([
      "invalid user id: 'text' does not match userIdPattern",
    ]);
  });
});
