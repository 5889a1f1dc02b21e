// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the configuration syntax under test, not a template.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import {
  expectConfigError,
  makeConfigDir,
  replaceLine,
  SECRET_TOKEN,
  validLines,
  writeLines,
} from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeConfigDir());
});
afterEach(async () => {
  await cleanup();
});

/** Loads `lines` as config.yaml and returns the error message with the file path cut to its name. */
async function messageFor(lines: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const file = await writeLines(dir, 'config.yaml', lines);
  const error = await expectConfigError(loadConfig(file, env));
  expect(error.message).not.toContain(SECRET_TOKEN);
  return error.message.split(`${file}:`).join('config.yaml:');
}

describe('loadConfig errors', () => {
  it('rejects unknown key', async () => {
    const lines = replaceLine(validLines(), 5, '  region: "88"', '  tokn: abc');
    expect(await messageFor(lines)).toBe(
      "config.yaml:6:3: tracker.tokn: unknown key 'tokn'; allowed: url, appId, token, " +
        'tokenFile, region, events, caFile, timeoutMs'
    );
  });

  it('rejects unknown top-level key', async () => {
    const lines = [...validLines(), 'bot: {}'];
    const message = await messageFor(lines);
    expect(message).toMatch(
      /^config\.yaml:16:1: bot: unknown key 'bot'; allowed: tracker, state, /
    );
    expect(message).toContain(', bots');
  });

  it('rejects unknown event type', async () => {
    const lines = replaceLine(validLines(), 12, '      - event: appointment_opn');
    expect(await messageFor(lines)).toBe(
      "config.yaml:12:16: bots[0].rules[0].event: unknown event type 'appointment_opn'; " +
        'allowed: appointment_open, appointment_cancel (add new types to tracker.events)'
    );
  });

  it('checks events against tracker.events', async () => {
    const lines = replaceLine(validLines(), 5, '  region: "88"', '  events: [visit_booked]');
    expect(await messageFor(lines)).toBe(
      "config.yaml:13:16: bots[0].rules[0].event: unknown event type 'appointment_open'; " +
        'allowed: visit_booked'
    );
  });

  it('rejects missing env variable', async () => {
    const lines = replaceLine(validLines(), 3, '  appId: ${MFC_APP_ID}');
    expect(await messageFor(lines)).toBe(
      'config.yaml:3:10: tracker.appId: environment variable MFC_APP_ID is not set; ' +
        'set it or give a default: ${MFC_APP_ID:-value}'
    );
  });

  it('rejects token and tokenFile together', async () => {
    const lines = replaceLine(validLines(), 5, '  region: "88"', '  tokenFile: token.txt');
    expect(await messageFor(lines)).toBe(
      'config.yaml:6:3: tracker.tokenFile: tracker.token is set as well; ' +
        'set exactly one of token and tokenFile'
    );
  });

  it('rejects missing token', async () => {
    const lines = replaceLine(validLines(), 4);
    expect(await messageFor(lines)).toBe(
      'config.yaml:1:1: tracker: missing token; set tracker.token ' +
        '(for example token: ${MFC_TRACKER_TOKEN}) or tracker.tokenFile (a file holding the token)'
    );
  });

  it('rejects token of wrong type without value', async () => {
    const lines = replaceLine(validLines(), 4, '  token: 918273645501');
    expect(await messageFor(lines)).toBe('config.yaml:4:10: tracker.token: expected a string');
  });

  it('rejects bad regex in when', async () => {
    const lines = replaceLine(
      validLines(),
      13,
      '        when: { msg: { regex: "appointment (" } }'
    );
    expect(await messageFor(lines)).toBe(
      "config.yaml:13:31: bots[0].rules[0].when.msg.regex: invalid regular expression 'appointment (': " +
        'Unterminated group; write a JavaScript regular expression'
    );
  });

  it('rejects userIdPattern without group', async () => {
    const lines = replaceLine(
      validLines(),
      14,
      '        userId: text',
      '        userIdPattern: "user=\\\\d+"'
    );
    expect(await messageFor(lines)).toBe(
      "config.yaml:15:24: bots[0].rules[0].userIdPattern: 'user=\\d+' has no capture group; " +
        "wrap the id in (...) or (?<id>...), for example 'user=(\\d+)'"
    );
  });

  it('rejects text format without pattern', async () => {
    const lines = replaceLine(validLines(), 10, '    include: ["logs/*.log"]', '    format: text');
    expect(await messageFor(lines)).toBe(
      "config.yaml:11:13: bots[0].format: 'text' requires pattern, a regular expression whose " +
        "named groups become the record's fields, for example '^(?<time>\\S+) (?<msg>.*)$'"
    );
  });

  it('rejects pattern without named groups', async () => {
    const lines = replaceLine(
      validLines(),
      10,
      '    include: ["logs/*.log"]',
      '    format: text',
      "    pattern: '^(\\S+) (.*)$'"
    );
    expect(await messageFor(lines)).toMatch(
      /^config\.yaml:12:14: bots\[0\]\.pattern: '\^\(\\S\+\) \(\.\*\)\$' has no named groups; /
    );
  });

  it('rejects bad timezone', async () => {
    const lines = replaceLine(
      validLines(),
      10,
      '    include: ["logs/*.log"]',
      '    timezone: Europe/Moskow'
    );
    expect(await messageFor(lines)).toBe(
      "config.yaml:11:15: bots[0].timezone: unknown time zone 'Europe/Moskow'; " +
        'expected an IANA zone name such as Europe/Moscow or UTC'
    );
  });

  it('rejects url carrying idApp', async () => {
    const lines = replaceLine(validLines(), 2, '  url: http://127.0.0.1:9/v1/customEvent/?idApp=5');
    expect(await messageFor(lines)).toBe(
      "config.yaml:2:8: tracker.url: 'http://127.0.0.1:9/v1/customEvent/?idApp=5' carries idApp; " +
        'remove it, because the agent appends ?idApp= from tracker.appId'
    );
  });

  it('rejects url with other scheme', async () => {
    const lines = replaceLine(validLines(), 2, '  url: ftp://127.0.0.1/v1/customEvent/');
    expect(await messageFor(lines)).toBe(
      "config.yaml:2:8: tracker.url: unsupported scheme 'ftp:' in 'ftp://127.0.0.1/v1/customEvent/'; " +
        'expected http:// or https://'
    );
  });

  it('rejects duplicate bot names', async () => {
    const lines = [
      ...validLines(),
      '  - name: "@mfc_bot"',
      '    include: [b.log]',
      ...validLines().slice(10),
    ];
    expect(await messageFor(lines)).toBe(
      "config.yaml:16:11: bots[1].name: duplicate bot name 'mfc_bot', also used by bots[0]; " +
        'give each bot its own name'
    );
  });

  it('rejects unquoted region with leading zero', async () => {
    const lines = replaceLine(validLines(), 5, '  region: 088');
    expect(await messageFor(lines)).toBe(
      'config.yaml:5:11: tracker.region: 088 is read as the number 88; write the region in quotes: region: "088"'
    );
  });

  it('reports missing required key', async () => {
    const lines = replaceLine(validLines(), 3);
    expect(await messageFor(lines)).toBe(
      'config.yaml:1:1: tracker.appId: missing required value; ' +
        'expected the app id issued with the credentials: a positive integer such as 1027600'
    );
  });

  it('reports nested condition type', async () => {
    const lines = replaceLine(validLines(), 13, '        when: { level: { gte: "30" } }');
    expect(await messageFor(lines)).toBe(
      "config.yaml:13:31: bots[0].rules[0].when.level.gte: invalid value '30'; expected a number"
    );
  });

  it('truncates long values', async () => {
    const long = 'x'.repeat(100);
    const lines = replaceLine(
      validLines(),
      10,
      `    include: ["logs/*.log"]`,
      `    timezone: ${long}`
    );
    const message = await messageFor(lines);
    expect(message).toContain(`unknown time zone '${'x'.repeat(57)}...'`);
    expect(message).not.toContain('x'.repeat(58));
  });

  it('lists every problem in file order', async () => {
    let lines = replaceLine(validLines(), 12, '      - event: appointment_opn');
    lines = replaceLine(lines, 3, '  appId: abc');
    const message = await messageFor(lines);
    const problemLines = message.split('\n');
    expect(problemLines).toHaveLength(2);
    expect(problemLines[0]).toMatch(/^config\.yaml:3:10: tracker\.appId: invalid value 'abc'; /);
    expect(problemLines[1]).toMatch(/^config\.yaml:12:16: bots\[0\]\.rules\[0\]\.event: /);
  });

  it('reports YAML syntax error', async () => {
    const lines = replaceLine(validLines(), 10, '    include: ["logs/*.log"]', '\tstartAt: end');
    expect(await messageFor(lines)).toBe(
      'config.yaml:11:1: invalid YAML: Tabs are not allowed as indentation'
    );
  });

  it('reports duplicate key', async () => {
    const lines = replaceLine(validLines(), 5, '  region: "88"', '  appId: 5');
    expect(await messageFor(lines)).toBe(
      'config.yaml:6:3: invalid YAML: duplicate key; each key may appear only once in a mapping'
    );
  });

  it('hides token in syntax error', async () => {
    // The parser quotes the stray scalar, the token here, in its own message.
    const lines = replaceLine(validLines(), 4, `  token: [x]] ${SECRET_TOKEN}`);
    const message = await messageFor(lines);
    expect(message).toBe(
      'config.yaml:4:13: invalid YAML: Unexpected flow-seq-end token in YAML stream'
    );
  });

  it('reports empty file', async () => {
    expect(await messageFor(['# nothing yet'])).toBe(
      'config.yaml:1:1: the file holds no settings; expected a mapping with tracker and bots ' +
        '(see config.example.yaml)'
    );
  });

  it('reports missing file', async () => {
    const file = join(dir, 'absent.yaml');
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.message).toBe(
      `config file not found: ${file} (create it from config.example.yaml)`
    );
    expect(error.problems).toHaveLength(1);
  });

  it('reports directory as config', async () => {
    const path = join(dir, 'conf.d');
    await mkdir(path);
    const error = await expectConfigError(loadConfig(path, {}));
    expect(error.message).toBe(`config path ${path} is a directory; name the YAML file in it`);
  });

  it('carries structured problems', async () => {
    const file = await writeLines(
      dir,
      'config.yaml',
      replaceLine(validLines(), 12, '      - event: nope')
    );
    const error = await expectConfigError(loadConfig(file, {}));
    expect(error.problems).toEqual([
      {
        file,
        line: 12,
        column: 16,
        path: 'bots[0].rules[0].event',
        message:
          "unknown event type 'nope'; allowed: appointment_open, appointment_cancel (add new types to tracker.events)",
      },
    ]);
  });
});

describe('loadConfig condition errors', () => {
  it('reports unknown operator once', async () => {
    const lines = replaceLine(validLines(), 13, '        when: { msg: { rgx: "created$" } }');
    expect(await messageFor(lines)).toBe(
      "config.yaml:13:24: bots[0].rules[0].when.msg.rgx: unknown key 'rgx'; allowed: eq, in, " +
        'regex, contains, exists, gt, gte, lt, lte, not'
    );
  });

  it('quotes dotted field keys', async () => {
    const lines = replaceLine(validLines(), 13, '        when: { record.message: { in: [] } }');
    expect(await messageFor(lines)).toBe(
      'config.yaml:13:39: bots[0].rules[0].when["record.message"].in: empty list; ' +
        'expected at least 1 item'
    );
  });

  it('reports empty condition', async () => {
    const lines = replaceLine(validLines(), 13, '        when: { msg: {} }');
    expect(await messageFor(lines)).toBe(
      'config.yaml:13:22: bots[0].rules[0].when.msg: a condition needs at least one operator; ' +
        'allowed: eq, in, regex, contains, exists, gt, gte, lt, lte, not'
    );
  });

  it('reports unknown alias', async () => {
    const lines = replaceLine(validLines(), 14, '        userId: *user');
    expect(await messageFor(lines)).toBe(
      'config.yaml:14:17: bots[0].rules[0].userId: unknown alias *user; define the anchor &user before it'
    );
  });
});

describe('loadConfig delivery checks', () => {
  it('rejects backoff above maximum', async () => {
    const lines = [...validLines(), 'delivery:', '  initialBackoffMs: 400000'];
    expect(await messageFor(lines)).toBe(
      'config.yaml:17:21: delivery.initialBackoffMs: invalid value 400000; ' +
        'expected at most delivery.maxBackoffMs (300000)'
    );
  });

  it('rejects concurrency out of range', async () => {
    const lines = [...validLines(), 'delivery:', '  concurrency: 65'];
    expect(await messageFor(lines)).toBe(
      'config.yaml:17:16: delivery.concurrency: invalid value 65; expected a number <= 64'
    );
  });
});
