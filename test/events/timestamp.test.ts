import { describe, expect, it } from 'vitest';
import { fromEpoch, parseEventTime, toUnixSeconds } from '../../src/events/timestamp.js';

const UTC = { timezone: 'UTC' };
const MOSCOW = { timezone: 'Europe/Moscow' };
const NEW_YORK = { timezone: 'America/New_York' };
// 2024-05-01 06:31:38.848 UTC, the reference instant of most rows.
const REFERENCE_MS = Date.UTC(2024, 4, 1, 6, 31, 38, 848);

const table: [string, unknown, { timezone: string; timeFormat?: string }, number | null][] = [
  ['epoch seconds', 1714545098, UTC, Date.UTC(2024, 4, 1, 6, 31, 38)],
  ['epoch seconds float', 1714545098.848, UTC, REFERENCE_MS],
  ['epoch milliseconds', 1714545098848, UTC, REFERENCE_MS],
  ['epoch microseconds', 1714545098848425, UTC, REFERENCE_MS],
  // JSON.parse rounds a nanosecond epoch to a double, as Number() does here.
  ['epoch nanoseconds', Number('1714545098848425123'), UTC, REFERENCE_MS],
  ['seconds digit string', '1714545098', UTC, Date.UTC(2024, 4, 1, 6, 31, 38)],
  ['milliseconds digit string', '1714545098848', UTC, REFERENCE_MS],
  ['nanoseconds digit string', '1714545098848425123', UTC, REFERENCE_MS],
  ['float string', '1714545098.848', UTC, REFERENCE_MS],
  ['rfc3339 offset', '2024-05-01T09:31:38.848425+03:00', UTC, REFERENCE_MS],
  ['rfc3339 zulu', '2024-05-01T06:31:38.848Z', MOSCOW, REFERENCE_MS],
  ['rfc3339 nanoseconds', '2024-05-01T06:31:38.848999999Z', UTC, REFERENCE_MS],
  ['offset without colon', '2024-05-01T09:31:38.848+0300', UTC, REFERENCE_MS],
  ['negative offset', '2024-05-01T02:31:38.848-04:00', UTC, REFERENCE_MS],
  ['naive in moscow', '2024-05-01 09:31:38.848', MOSCOW, REFERENCE_MS],
  ['naive with T', '2024-05-01T09:31:38.848', MOSCOW, REFERENCE_MS],
  ['python logging comma', '2024-05-01 09:31:38,848', MOSCOW, REFERENCE_MS],
  ['naive seconds only', '2026-03-18 14:08:23', MOSCOW, Date.UTC(2026, 2, 18, 11, 8, 23)],
  ['naive in utc', '2026-03-18 14:08:23', UTC, Date.UTC(2026, 2, 18, 14, 8, 23)],
  ['naive in new york dst', '2024-05-01 02:31:38.848', NEW_YORK, REFERENCE_MS],
  ['day first dotted', '18.03.2026 14:08:23', MOSCOW, Date.UTC(2026, 2, 18, 11, 8, 23)],
  ['slashed date', '2026/03/18 14:08:23', MOSCOW, Date.UTC(2026, 2, 18, 11, 8, 23)],
  ['loguru repr', '2024-05-01 09:31:38.848425+03:00', UTC, REFERENCE_MS],
  ['rfc 2822', 'Wed, 01 May 2024 06:31:38 +0000', UTC, Date.UTC(2024, 4, 1, 6, 31, 38)],
  [
    'custom format',
    '01/05/2024 09h31m38s',
    { timezone: 'Europe/Moscow', timeFormat: "dd/MM/yyyy HH'h'mm'm'ss's'" },
    Date.UTC(2024, 4, 1, 6, 31, 38),
  ],
  ['padded with spaces', '  2024-05-01T06:31:38.848Z ', UTC, REFERENCE_MS],
  ['empty string', '', UTC, null],
  ['words', 'yesterday', UTC, null],
  ['impossible date', '2026-02-30 10:00:00', UTC, null],
  ['hour 25', '2026-03-18 25:00:00', UTC, null],
  ['zero', 0, UTC, null],
  ['negative', -1714545098, UTC, null],
  ['not finite', Number.NaN, UTC, null],
  ['boolean', true, UTC, null],
  ['object', { seconds: 1 }, UTC, null],
  ['missing', undefined, UTC, null],
];

describe('parseEventTime', () => {
  for (const [name, value, options, expected] of table) {
    it(name, () => {
      expect(parseEventTime(value, options)).toBe(expected);
    });
  }
});

describe('epoch conversion', () => {
  it('floors to whole seconds', () => {
    expect(toUnixSeconds(REFERENCE_MS)).toBe(1714545098);
    expect(toUnixSeconds(1714545098999)).toBe(1714545098);
  });

  it('keeps exact second float', () => {
    expect(fromEpoch(1714545099)).toBe(1714545099000);
    expect(toUnixSeconds(fromEpoch(1714545098.9999)!)).toBe(1714545098);
  });

  it('splits magnitudes at bounds', () => {
    expect(fromEpoch(99_999_999_999)).toBe(99_999_999_999_000);
    expect(fromEpoch(100_000_000_000)).toBe(100_000_000_000);
    expect(fromEpoch(1e14)).toBe(1e11);
    expect(fromEpoch(1e17)).toBe(1e11);
  });
});
