import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appointmentLine, backlogUserId, ensureBacklog, fillerLine } from '../lib/workload.mjs';

const dirs = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('workload', () => {
  it('backlog lines are all appointments', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'bench-workload-'));
    dirs.push(dir);
    const { path, expected } = ensureBacklog(dir, 1000);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1000);
    expect(expected.bytes).toBe(statSync(path).size);
    const names = lines.map((line) => JSON.parse(line).msg);
    expect(names.filter((name) => name === 'appointment created')).toHaveLength(800);
    expect(names.filter((name) => name === 'appointment cancelled')).toHaveLength(200);
  });

  it('backlog sum is exact', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'bench-workload-'));
    dirs.push(dir);
    const { path, expected } = ensureBacklog(dir, 100);
    const digits = readFileSync(path, 'utf8').matchAll(/"userId":(\d+)/g);
    const sum = [...digits].reduce((total, match) => total + BigInt(match[1]), 0n);
    expect(expected.userIdSum).toBe(sum.toString());
    expect(backlogUserId(19) > 2n ** 53n).toBe(true);
  });

  it('backlog is reused when cached', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'bench-workload-'));
    dirs.push(dir);
    const first = ensureBacklog(dir, 10);
    const modifiedAt = statSync(first.path).mtimeMs;
    ensureBacklog(dir, 10);
    expect(statSync(first.path).mtimeMs).toBe(modifiedAt);
  });

  it('filler lines never match rules', () => {
    for (let sequence = 0; sequence < 50; sequence += 1) {
      const line = fillerLine(sequence, 1_714_545_098_851);
      expect(line.endsWith('\n')).toBe(true);
      expect(line).not.toContain('appointment');
      expect(JSON.parse(line).msg).toBe('update received');
    }
  });

  it('appointment line keeps big ids', () => {
    const line = appointmentLine({
      userId: '9007199254740993',
      name: 'appointment cancelled',
      timeMs: 1,
    });
    expect(line).toContain('"userId":9007199254740993,');
    expect(line).toContain('"msg":"appointment cancelled"');
  });
});
