import { escapePath } from 'tinyglobby';
import { describe, expect, test } from 'vitest';
import {
  compilePathMatcher,
  compressedPattern,
  watchTargetOf,
} from '../../src/discovery/patterns.js';

describe('path matcher', () => {
  const matcher = compilePathMatcher(
    ['/var/log/bot/*.log', '/srv/**/app.log*'],
    ['*.gz', '/srv/old/**']
  );

  test.each([
    ['/var/log/bot/app.log', true],
    ['/var/log/bot/.hidden.log', true],
    ['/var/log/bot/app.txt', false],
    ['/var/log/bot/sub/app.log', false],
    ['/srv/a/b/app.log', true],
    ['/srv/a/app.log.1', true],
    ['/srv/a/app.log.1.gz', false],
    ['/srv/old/app.log', false],
  ])('matches %s: %s', (path, expected) => {
    expect(matcher.matches(path)).toBe(expected);
  });

  test('basename exclude anywhere', () => {
    const noDebug = compilePathMatcher(['/logs/**/*.log'], ['debug-*']);
    expect(noDebug.matches('/logs/a/debug-1.log')).toBe(false);
    expect(noDebug.matches('/logs/a/info-1.log')).toBe(true);
  });

  test.each([
    ['/var/log/bot/app.log.1.gz', true],
    ['/var/log/bot/app.log-20260101.gz', true],
    ['/var/log/bot/app.txt.gz', false],
    ['/srv/old/app.log.2.gz', false],
  ])('compressed generation %s: %s', (path, expected) => {
    expect(matcher.matchesCompressed(path)).toBe(expected);
  });

  test('compressed pattern appends suffix', () => {
    expect(compressedPattern('/var/log/bot/app.log')).toBe('/var/log/bot/app.log*.gz');
  });
});

describe('watch target', () => {
  test.each([
    ['/var/log/bot/app.log', '/var/log/bot', 0],
    ['/var/log/bot/*.log', '/var/log/bot', 0],
    ['/var/log/*/app.log', '/var/log', 1],
    ['/var/log/{a,b}/x/*.log', '/var/log', 2],
    ['/var/log/**/*.log', '/var/log', undefined],
  ])('%s watches %s at depth %s', (pattern, base, depth) => {
    expect(watchTargetOf(pattern)).toEqual({ pattern, base, depth });
  });

  test('escaped directory unescaped', () => {
    const pattern = `${escapePath('/tmp/bot [1] (x)')}/*.log`;
    expect(watchTargetOf(pattern).base).toBe('/tmp/bot [1] (x)');
  });
});
