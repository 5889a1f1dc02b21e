// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the configuration syntax under test, not a template.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandString } from '../../src/config/env-expansion.js';
import { loadConfig } from '../../src/config/load.js';
import {
  expectConfigError,
  makeConfigDir,
  replaceLine,
  validLines,
  writeLines,
} from './helpers.js';

describe('expandString', () => {
  const env = { HOST: 'tracker.local', EMPTY: '', PORT: '8443' };

  it('replaces set variable', () => {
    expect(expandString('https://${HOST}:${PORT}/v1/', env)).toEqual({
      value: 'https://tracker.local:8443/v1/',
    });
  });

  it('uses default when unset', () => {
    expect(expandString('${MISSING:-fallback}', env)).toEqual({ value: 'fallback' });
  });

  it('uses default when empty', () => {
    expect(expandString('${EMPTY:-fallback}', env)).toEqual({ value: 'fallback' });
  });

  it('keeps empty value without default', () => {
    expect(expandString('[${EMPTY}]', env)).toEqual({ value: '[]' });
  });

  it('allows empty default', () => {
    expect(expandString('a${MISSING:-}b', env)).toEqual({ value: 'ab' });
  });

  it('keeps escaped reference literal', () => {
    expect(expandString('$${HOST} and ${HOST}', env)).toEqual({
      value: '${HOST} and tracker.local',
    });
  });

  it('keeps lone dollar signs', () => {
    expect(expandString('cost $5 $$ ${PORT}$', env)).toEqual({ value: 'cost $5 $$ 8443$' });
  });

  it('names missing variable', () => {
    expect(expandString('${NOPE}', env)).toEqual({
      error: 'environment variable NOPE is not set; set it or give a default: ${NOPE:-value}',
    });
  });

  it('rejects unterminated reference', () => {
    expect(expandString('abc ${HOST', env)).toEqual({
      error: 'unterminated ${ (add the closing } or write $${ for a literal ${)',
    });
  });

  it('rejects invalid variable name', () => {
    const result = expandString('${1HOST}', env);
    expect(result).toHaveProperty('error');
    expect((result as { error: string }).error).toMatch(
      /^invalid variable reference; write \$\{NAME\}/
    );
  });

  it('rejects nested default', () => {
    expect(expandString('${A:-${HOST}}', env)).toEqual({
      error: 'the default of ${A} holds another reference; nesting is not supported',
    });
  });
});

describe('loadConfig expansion', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await makeConfigDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('expands values throughout', async () => {
    let lines = replaceLine(
      validLines(),
      2,
      '  url: http://${TRACKER_HOST:-127.0.0.1}:9/v1/customEvent/'
    );
    lines = replaceLine(lines, 4, '  token: ${MFC_TOKEN}');
    lines = replaceLine(lines, 9, '  - name: ${BOT_NAME}');
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { MFC_TOKEN: 'env-token-77', BOT_NAME: '@city_bot' });
    expect(loaded.config.tracker.url).toBe('http://127.0.0.1:9/v1/customEvent/');
    expect(loaded.token).toBe('env-token-77');
    expect(loaded.config.tracker.token).toBe('env-token-77');
    expect(loaded.config.bots[0]?.name).toBe('city_bot');
  });

  it('reads unquoted numbers and booleans', async () => {
    const lines = [
      ...validLines(),
      'delivery:',
      '  concurrency: ${CONCURRENCY:-8}',
      '  maxRequestsPerSecond: ${RPS}',
      'metrics:',
      '  enabled: ${METRICS_ENABLED}',
    ];
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { RPS: '12.5', METRICS_ENABLED: 'true' });
    expect(loaded.config.delivery.concurrency).toBe(8);
    expect(loaded.config.delivery.maxRequestsPerSecond).toBe(12.5);
    expect(loaded.config.metrics.enabled).toBe(true);
  });

  it('keeps quoted reference a string', async () => {
    const lines = [...validLines(), 'delivery:', '  concurrency: "${CONCURRENCY}"'];
    const file = await writeLines(dir, 'config.yaml', lines);
    const error = await expectConfigError(loadConfig(file, { CONCURRENCY: '8' }));
    expect(error.message).toBe(
      `${file}:17:16: delivery.concurrency: invalid value '8'; expected a number`
    );
  });

  it('keeps digit token a string', async () => {
    const lines = replaceLine(validLines(), 4, '  token: ${MFC_TOKEN}');
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { MFC_TOKEN: '0012345' });
    expect(loaded.token).toBe('0012345');
  });

  it('keeps region digits exact', async () => {
    const lines = replaceLine(validLines(), 5, '  region: ${MFC_REGION}');
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { MFC_REGION: '088' });
    expect(loaded.config.tracker.region).toBe('088');
  });

  it('reports each missing variable', async () => {
    let lines = replaceLine(validLines(), 4, '  token: ${MFC_TOKEN}');
    lines = replaceLine(lines, 7, '  dir: ${STATE_DIR}/agent');
    const file = await writeLines(dir, 'config.yaml', lines);
    const error = await expectConfigError(loadConfig(file, {}));
    expect(
      error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.path}`)
    ).toEqual(['4:10 tracker.token', '7:8 state.dir']);
  });

  it('leaves keys unexpanded', async () => {
    const lines = replaceLine(
      validLines(),
      13,
      '        when: { "${FIELD}": "appointment created" }'
    );
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { FIELD: 'msg' });
    expect(loaded.config.bots[0]?.rules[0]?.when).toEqual({ '${FIELD}': 'appointment created' });
  });

  it('expands anchored value once', async () => {
    const lines = [
      ...validLines(),
      '      - event: appointment_cancel',
      '        when: { msg: &m "${MSG}" }',
      '        userId: *m',
    ];
    const file = await writeLines(dir, 'config.yaml', lines);
    const loaded = await loadConfig(file, { MSG: 'cancelled' });
    expect(loaded.config.bots[0]?.rules[1]?.userId).toBe('cancelled');
  });
});
