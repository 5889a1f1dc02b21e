import { describe, expect, it } from 'vitest';
import { kindOf, readUserId } from '../../src/events/user-id.js';

describe('readUserId', () => {
  it('reads safe integer', () => {
    expect(readUserId(1806953, { path: 'userId' })).toEqual({ ok: true, userId: '1806953' });
  });

  it('keeps leading zeros of strings', () => {
    expect(readUserId('001806953', { path: 'userId' })).toEqual({ ok: true, userId: '001806953' });
  });

  it('prefers the id group', () => {
    const pattern = /chat (\d+) user (?<id>\d+)/;
    const result = readUserId('chat 42 user 1806953', { path: 'text', pattern });
    expect(result).toEqual({ ok: true, userId: '1806953' });
  });

  it('uses first group otherwise', () => {
    const result = readUserId('user=1806953;', { path: 'text', pattern: /user=(\d+)/ });
    expect(result).toEqual({ ok: true, userId: '1806953' });
  });

  it('applies pattern to numbers', () => {
    const result = readUserId(421806953, { path: 'id', pattern: /^42(\d+)$/ });
    expect(result).toEqual({ ok: true, userId: '1806953' });
  });

  it('asks for exact digits', () => {
    let calls = 0;
    const exactNumberText = () => {
      calls++;
      return '9007199254740993';
    };
    expect(readUserId(1806953, { path: 'userId', exactNumberText })).toEqual({
      ok: true,
      userId: '1806953',
    });
    expect(calls).toBe(0);
    expect(readUserId(2 ** 53 + 2, { path: 'userId', exactNumberText })).toEqual({
      ok: true,
      userId: '9007199254740993',
    });
    expect(calls).toBe(1);
  });

  it('rejects inexact number without text', () => {
    expect(readUserId(2 ** 60, { path: 'userId' })).toEqual({
      ok: false,
      reason: "invalid user id: 'userId' is a number above 2^53 whose digits are lost",
    });
  });

  it('rejects zero', () => {
    expect(readUserId(0, { path: 'userId' })).toEqual({
      ok: false,
      reason: "invalid user id: 'userId' is zero",
    });
  });

  it('rejects fractional capture', () => {
    const result = readUserId('user=18.5', { path: 'text', pattern: /user=([\d.]+)/ });
    expect(result).toEqual({
      ok: false,
      reason: "invalid user id: 'text' is a fractional number captured by userIdPattern",
    });
  });

  it('names value kinds', () => {
    expect([undefined, null, [], {}, true, 1, 'x'].map(kindOf)).toEqual([
      'missing',
      'null',
      'an array',
      'an object',
      'a boolean',
      'a number',
      'a string',
    ]);
  });
});
