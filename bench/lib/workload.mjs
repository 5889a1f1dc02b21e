// The benchmark's input logs: the 1 GiB catch-up logs (written by the workload generator
// gen-log.mjs and cached), the all-appointments backlog, and single lines appended while the
// agent follows its files.

import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';

/** The catch-up logs: 1 GiB each, seed 1, one appointment line in a thousand. */
export const CATCHUP_LOGS = {
  pino: { file: 'bot-1g.log', args: [] },
  python: { file: 'bot-1g.py.log', args: ['--format', 'python'] },
};
const CATCHUP_ARGS = ['--size', '1024M', '--match-rate', '0.001', '--seed', '1'];

/**
 * Returns `{ path, expected }` for the catch-up log of `format` in `dataDir`, writing it with the
 * generator at `genLogPath` unless a complete copy is cached (its size equals the byte count in
 * FILE.expected.json). `expected` is that file's content.
 */
export function ensureCatchupLog(dataDir, format, genLogPath) {
  const spec = CATCHUP_LOGS[format];
  const path = `${dataDir}/${spec.file}`;
  if (!isCached(path)) {
    if (!genLogPath || !existsSync(genLogPath)) {
      throw new Error(
        `${path} is not cached and the generator was not found at '${genLogPath ?? ''}'; ` +
          'pass --gen-log PATH to gen-log.mjs (or set MFC_BENCH_GEN_LOG)'
      );
    }
    const args = [genLogPath, ...CATCHUP_ARGS, ...spec.args, '--out', path];
    process.stderr.write(`bench: generating ${path} (node ${args.join(' ')})\n`);
    execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return { path, expected: JSON.parse(readFileSync(`${path}.expected.json`, 'utf8')) };
}

function isCached(path) {
  if (!existsSync(path) || !existsSync(`${path}.expected.json`)) return false;
  const expected = JSON.parse(readFileSync(`${path}.expected.json`, 'utf8'));
  return statSync(path).size === expected.bytes;
}

/** Base of the benchmark's user ids; ids above 2^53 are 2^53 plus a multiple of this. */
const USER_ID_BASE = 1_000_000_000n;
const BIG_USER_ID_BASE = 2n ** 53n;

/**
 * Returns the user id of backlog line `index`: every 20th id lies above 2^53, so a sender that
 * rounds ids through a double changes the sum of the ids the sink reports.
 */
export function backlogUserId(index) {
  const step = BigInt(index) * 7919n;
  return index % 20 === 19 ? BIG_USER_ID_BASE + step : USER_ID_BASE + step;
}

/**
 * Returns `{ path, expected }` for a log of `events` lines in `dataDir` where every line is an
 * appointment line (four created for one cancelled), writing it unless cached. `expected` holds
 * `events`, `bytes` and the exact `userIdSum`.
 */
export function ensureBacklog(dataDir, events) {
  const path = `${dataDir}/backlog-${events}.log`;
  if (isCached(path)) {
    return { path, expected: JSON.parse(readFileSync(`${path}.expected.json`, 'utf8')) };
  }
  const baseTimeMs = 1_714_545_098_851;
  let userIdSum = 0n;
  let bytes = 0;
  const fd = openSync(path, 'w');
  const batch = [];
  for (let index = 0; index < events; index += 1) {
    const userId = backlogUserId(index);
    userIdSum += userId;
    const name = index % 5 === 4 ? 'appointment cancelled' : 'appointment created';
    batch.push(appointmentLine({ userId, name, timeMs: baseTimeMs + index * 13 }));
    if (batch.length === 1000 || index === events - 1) {
      bytes += writeSync(fd, batch.join(''));
      batch.length = 0;
    }
  }
  closeSync(fd);
  const expected = { events, bytes, userIdSum: userIdSum.toString() };
  writeJson(`${path}.expected.json`, expected);
  return { path, expected };
}

function writeJson(path, value) {
  const fd = openSync(path, 'w');
  writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
  closeSync(fd);
}

const SERVICES = ['Стрижка мужская', 'Маникюр', 'Consultation', 'Массаж спины'];

/**
 * Returns one pino-style appointment line (with its `\n`) as the bot writes it; `userId` is a
 * bigint or a digit string and is written as bare digits.
 */
export function appointmentLine({ userId, name, timeMs }) {
  const id = String(userId);
  const service = SERVICES[Number(BigInt(id) % BigInt(SERVICES.length))];
  return (
    `{"level":30,"time":${Math.trunc(timeMs)},"pid":4242,"hostname":"bench-bot",` +
    `"msg":"${name}","userId":${id},"chatId":${id},"appointmentId":${Number(id.slice(-6))},` +
    `"slot":"2024-05-13T12:00:00+03:00","service":"${service}","masterId":37}\n`
  );
}

const TEXTS = [
  'Здравствуйте! Хочу записаться на стрижку в субботу',
  'Какие документы нужны для СНИЛС?',
  'Спасибо, до свидания 👋',
  'Можно перенести запись на другой день?',
];

/**
 * Returns one ordinary pino-style line (about 250 bytes with its `\n`) that no benchmark rule
 * matches and whose text holds no "appointment".
 */
export function fillerLine(sequence, timeMs) {
  const userId = 3_964_236_774 + (sequence % 997);
  const text = TEXTS[sequence % TEXTS.length];
  return (
    `{"level":30,"time":${Math.trunc(timeMs)},"pid":4242,"hostname":"bench-bot",` +
    `"msg":"update received","updateId":${790_397_223 + sequence},"type":"message",` +
    `"chatId":${userId},"userId":${userId},"username":"olga.s","text":"${text}"}\n`
  );
}
