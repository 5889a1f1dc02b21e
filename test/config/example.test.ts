import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { allowedKeys } from '../../src/config/schema-keys.js';
import { createLineProcessor } from '../../src/rules/line-processor.js';
import { makeConfigDir } from './helpers.js';

const EXAMPLE = resolve(import.meta.dirname, '../../config.example.yaml');
const SAMPLE_EPOCH_SECONDS = 1714545103; // 2024-05-01T06:31:43.816Z, the time of every sample

interface Preset {
  name: string;
  sampleLine: string;
  /** The bot block with its comment markers removed. */
  yaml: string;
}

/** Reads the commented preset blocks: a header, a sample line, then the bot lines. */
function readPresets(text: string): Preset[] {
  const presets: Preset[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const header = /^ {2}# --- preset: (\S+)/.exec(line);
    if (!header) return;
    const sampleLine = (lines[index + 1] ?? '').replace(/^ {2}# /, '');
    const body: string[] = [];
    for (let next = index + 2; next < lines.length && lines[next] !== ''; next++) {
      body.push((lines[next] as string).replace(/^ {2}# /, '  '));
    }
    presets.push({ name: header[1] as string, sampleLine, yaml: body.join('\n') });
  });
  return presets;
}

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await makeConfigDir());
});
afterEach(async () => {
  await cleanup();
});

describe('config.example.yaml', () => {
  it('loads with token variable', async () => {
    const loaded = await loadConfig(EXAMPLE, { MFC_TRACKER_TOKEN: 'from-env-token' });
    expect(loaded.token).toBe('from-env-token');
    expect(loaded.path).toBe(EXAMPLE);
    expect(loaded.config.tracker.url).toBe('http://127.0.0.1:18080/v1/customEvent/');
    expect(loaded.config.tracker.appId).toBe(1027600);
    expect(loaded.config.tracker.region).toBe('88');
    expect(loaded.config.state.dir).toBe(resolve(EXAMPLE, '../.state'));
    const [bot] = loaded.config.bots;
    expect(bot?.name).toBe('mfc_bot');
    expect(bot?.startAt).toBe('beginning');
    expect(bot?.include).toEqual([resolve(EXAMPLE, '../examples/logs/*.log')]);
    expect(bot?.rules.map((rule) => rule.event)).toEqual([
      'appointment_open',
      'appointment_cancel',
    ]);
  });

  it('falls back to demo token', async () => {
    const loaded = await loadConfig(EXAMPLE, {});
    expect(loaded.token).toBe('demo-token');
  });

  it('documents every schema key', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const mappings = [
      [],
      ['tracker'],
      ['state'],
      ['outbox'],
      ['delivery'],
      ['metrics'],
      ['log'],
      ['bots', 0],
      ['bots', 0, 'rules', 0],
      ['bots', 0, 'rules', 0, 'when', 'field'],
    ];
    for (const path of mappings) {
      const keys = allowedKeys(path);
      expect(keys.length, `keys of ${path.join('.')}`).toBeGreaterThan(0);
      for (const key of keys) {
        expect(text, `key ${key} of ${path.join('.')}`).toMatch(new RegExp(`\\b${key}\\b`));
      }
    }
  });

  it('has eight valid presets', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const presets = readPresets(text);
    expect(presets.map((preset) => preset.name)).toEqual([
      'pino',
      'winston',
      'bunyan',
      'python-json-logger',
      'structlog',
      'loguru',
      'zap',
      'logrus',
    ]);
    const file = join(dir, 'config.yaml');
    await writeFile(file, `${text}\n${presets.map((preset) => preset.yaml).join('\n')}\n`);
    const loaded = await loadConfig(file, {});
    expect(loaded.config.bots).toHaveLength(1 + presets.length);
  });

  it('presets match their samples', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const presets = readPresets(text);
    const file = join(dir, 'config.yaml');
    await writeFile(file, `${text}\n${presets.map((preset) => preset.yaml).join('\n')}\n`);
    const { config } = await loadConfig(file, {});
    for (const [index, preset] of presets.entries()) {
      const bot = config.bots[index + 1]!;
      const processor = createLineProcessor(bot, {
        eventTypes: config.tracker.events,
        futureToleranceMs: config.futureToleranceMs,
        maxEventAgeMs: config.maxEventAgeMs,
        now: () => SAMPLE_EPOCH_SECONDS * 1000,
      });
      const cancelled = preset.sampleLine.replaceAll(
        'appointment created',
        'appointment cancelled'
      );
      const chunk = Buffer.from(`${preset.sampleLine}\n${cancelled}\n`);
      const result = processor.process(chunk, 0, chunk.length, 0);
      expect(result.invalid, preset.name).toEqual([]);
      expect(
        result.events.map(({ event }) => event),
        preset.name
      ).toEqual([
        {
          name: 'appointment_open',
          userId: '7336528278',
          timestamp: SAMPLE_EPOCH_SECONDS,
          bot: bot.name,
        },
        {
          name: 'appointment_cancel',
          userId: '7336528278',
          timestamp: SAMPLE_EPOCH_SECONDS,
          bot: bot.name,
        },
      ]);
    }
  });
});
