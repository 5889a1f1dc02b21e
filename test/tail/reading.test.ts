import { appendFileSync, readdirSync, readlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import {
  appendEvents,
  deliveryProblems,
  eventLine,
  makeBot,
  makeTempDir,
  noiseLine,
  range,
  removeDir,
  sleep,
  TailHarness,
  waitFor,
} from './harness.js';

let dir = '';
let harness: TailHarness | undefined;

afterEach(async () => {
  await harness?.stopAll();
  if (dir) await removeDir(dir);
  harness = undefined;
});

async function setup(prefix: string) {
  dir = await makeTempDir(prefix);
  harness = new TailHarness(join(dir, 'state'));
  return { log: join(dir, 'app.log'), harness };
}

async function metricValue(
  h: TailHarness,
  name: string,
  labels: Record<string, string>
): Promise<number> {
  const metric = (await h.metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = metric?.values.find((entry) =>
    Object.entries(labels).every(([key, expected]) => entry.labels[key] === expected)
  );
  return Number(value?.value ?? 0);
}

/** Open descriptors of this process that point at `path`. */
function descriptorsOf(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(path);
    } catch {
      return false;
    }
  }).length;
}

test('partial line waits for newline', async () => {
  const { log, harness } = await setup('partial');
  const line = eventLine(1);
  writeFileSync(log, line.slice(0, 30));
  const service = await harness.start(makeBot([log]));
  await sleep(500);
  // Incomplete JSON is not taken as a line when the timeout passes.
  expect(harness.sink.delivered).toEqual([]);
  appendFileSync(log, line.slice(30));
  await waitFor(() => harness.sink.delivered.length >= 1);
  await service.drain();
  expect(deliveryProblems(harness.sink, [1])).toEqual([]);
});

test('complete last line after timeout', async () => {
  const { log, harness } = await setup('partial-final');
  appendEvents(log, 0, 3);
  appendFileSync(log, eventLine(3).trimEnd());
  const service = await harness.start(makeBot([log]));
  await service.drain();
  expect(deliveryProblems(harness.sink, range(0, 3))).toEqual([]);
  await waitFor(() => harness.sink.delivered.length >= 4, 3000);
  // The newline arriving later adds a blank line, not a second event.
  appendFileSync(log, `\n${eventLine(4)}`);
  await waitFor(() => harness.sink.delivered.length >= 5);
  await service.drain();
  expect(deliveryProblems(harness.sink, range(0, 5))).toEqual([]);
});

test('over-long line skipped', async () => {
  const { log, harness } = await setup('long');
  const long = `${JSON.stringify({ msg: 'appointment created', userId: 1_000_999, blob: 'x'.repeat(5000) })}\n`;
  writeFileSync(log, eventLine(0) + long + eventLine(1));
  const service = await harness.start(makeBot([log], { maxLineBytes: 1000 }));
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1])).toEqual([]);
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'too_long' })).toBe(
    1
  );
  const warning = harness.logs.records.find((record) =>
    String(record.msg).startsWith('Skipped a line longer')
  );
  expect(warning?.offset).toBe(eventLine(0).length);
  expect(warning?.lengthBytes).toBe(long.length - 1);
  expect(JSON.stringify(harness.logs.records)).not.toContain('xxxxxxxx');
});

test('line longer than buffer skipped', async () => {
  const { log, harness } = await setup('long-buffer');
  const service = await harness.start(makeBot([log], { maxLineBytes: 1000 }), {
    readBufferBytes: 4096,
  });
  appendFileSync(log, eventLine(0));
  // Written in pieces, so the skip has to resume where it stopped.
  for (let piece = 0; piece < 5; piece++) {
    appendFileSync(log, 'y'.repeat(20_000));
    await sleep(30);
  }
  appendFileSync(log, `\n${eventLine(1)}${eventLine(2)}`);
  await waitFor(() => harness.sink.delivered.length >= 3);
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1, 2])).toEqual([]);
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'too_long' })).toBe(
    1
  );
});

/** Returns event `n` as a line of about `bytes` bytes, padded with a field no rule reads. */
function paddedEventLine(n: number, bytes: number): string {
  const record = JSON.parse(eventLine(n)) as Record<string, unknown>;
  return `${JSON.stringify({ ...record, blob: 'z'.repeat(bytes) })}\n`;
}

test('wide lines arrive whole', async () => {
  const { log, harness } = await setup('wide');
  // A file's first read is 64 KiB. The padded lines below need one and four doublings of it.
  writeFileSync(log, eventLine(0) + paddedEventLine(1, 100_000) + eventLine(2));
  const service = await harness.start(makeBot([log]));
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1, 2])).toEqual([]);

  // Appended in pieces while followed: the partial line waits, and the read grows with the file.
  const wide = paddedEventLine(3, 900_000);
  for (let start = 0; start < wide.length; start += 300_000) {
    appendFileSync(log, wide.slice(start, start + 300_000));
    await sleep(30);
  }
  appendFileSync(log, eventLine(4));
  await waitFor(() => harness.sink.delivered.length >= 5);
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1, 2, 3, 4])).toEqual([]);
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'too_long' })).toBe(
    0
  );
});

test('line over maxLineBytes skipped after backlog', async () => {
  const { log, harness } = await setup('just-over');
  const noise = range(0, 3000).map(noiseLine).join('');
  // Limit 200,000 bytes: the skipped line is one byte over it, the kept one exactly at it.
  const shortEvent = paddedEventLine(1, 0);
  const keptLine = `${shortEvent.slice(0, -2)}${' '.repeat(200_000 - shortEvent.length + 1)}}\n`;
  const over = `${'y'.repeat(200_001)}\n`;
  writeFileSync(log, noise + eventLine(0) + keptLine + over + eventLine(2));
  const service = await harness.start(makeBot([log], { maxLineBytes: 200_000 }));
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1, 2])).toEqual([]);
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'too_long' })).toBe(
    1
  );
});

test('awkward bytes do not stall', async () => {
  const { log, harness } = await setup('bytes');
  const chunks = [
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(eventLine(0).replace('\n', '\r\n')),
    Buffer.from([0xff, 0xfe, 0x80, 0x0a]),
    Buffer.alloc(4096, 0),
    Buffer.from('\n'),
    Buffer.from(eventLine(1)),
    Buffer.from('not json at all\n\n\n'),
    Buffer.from(noiseLine(5)),
    Buffer.from(eventLine(2)),
  ];
  writeFileSync(log, Buffer.concat(chunks));
  const service = await harness.start(makeBot([log], { prefilter: false }));
  await service.drain();
  expect(deliveryProblems(harness.sink, [0, 1, 2])).toEqual([]);
  expect(service.files()[0]?.offset).toBe(service.files()[0]?.size);
});

test('outbox full pauses reading', async () => {
  const { log, harness } = await setup('full');
  appendEvents(log, 0, 10);
  harness.sink.full = true;
  const service = await harness.start(makeBot([log]));
  appendEvents(log, 10, 10);
  await sleep(300);
  expect(harness.sink.delivered).toEqual([]);
  expect(service.files()[0]?.offset).toBe(0);
  harness.sink.makeSpace();
  await service.drain();
  expect(deliveryProblems(harness.sink, range(0, 20))).toEqual([]);
});

test('outbox full mid-file', async () => {
  const { log, harness } = await setup('full-mid');
  appendEvents(log, 0, 100);
  harness.sink.fullAfterAppends = 3;
  const service = await harness.start(makeBot([log], { maxLineBytes: 500 }), {
    readBufferBytes: 1024,
  });
  await sleep(300);
  const delivered = harness.sink.delivered.length;
  const [file] = service.files();
  harness.sink.makeSpace();
  await service.drain();
  expect(delivered).toBeLessThan(100);
  expect(file!.offset).toBeLessThan(file!.size);
  expect(deliveryProblems(harness.sink, range(0, 100))).toEqual([]);
});

test('deleted file released after read', async () => {
  const { log, harness } = await setup('deleted');
  appendEvents(log, 0, 5);
  const service = await harness.start(makeBot([log]));
  await service.drain();
  appendEvents(log, 5, 5);
  unlinkSync(log);
  await waitFor(() => harness.sink.delivered.length >= 10);
  await waitFor(() => harness.book.all().length === 0, 3000);
  expect(deliveryProblems(harness.sink, range(0, 10))).toEqual([]);
  expect(service.files()).toEqual([]);
  expect(descriptorsOf(log)).toBe(0);
  expect(harness.book.all()).toEqual([]);
});

test('metrics count lines and bytes', async () => {
  const { log, harness } = await setup('metrics');
  const text = [eventLine(0), noiseLine(1), 'not json\n', eventLine(2)].join('');
  writeFileSync(log, text);
  const service = await harness.start(makeBot([log], { prefilter: false }));
  await service.drain();
  const bot = { bot: 'mfc_bot' };
  expect(await metricValue(harness, 'mfc_agent_lines_read_total', bot)).toBe(4);
  expect(await metricValue(harness, 'mfc_agent_bytes_read_total', bot)).toBe(text.length);
  expect(
    await metricValue(harness, 'mfc_agent_lines_matched_total', { rule: 'appointment_open#0' })
  ).toBe(2);
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'no_match' })).toBe(
    1
  );
  expect(await metricValue(harness, 'mfc_agent_lines_skipped_total', { reason: 'not_json' })).toBe(
    1
  );
  expect(await metricValue(harness, 'mfc_agent_files_watched', bot)).toBe(1);
  expect(await metricValue(harness, 'mfc_agent_file_lag_bytes', bot)).toBe(0);
});

test('three hundred files', async () => {
  dir = await makeTempDir('many');
  harness = new TailHarness(join(dir, 'state'));
  for (let file = 0; file < 300; file++) appendEvents(join(dir, `bot-${file}.log`), file * 10, 5);
  const service = await harness.start(makeBot([join(dir, '*.log')]));
  await service.drain();
  expect(service.files()).toHaveLength(300);
  expect(await metricValue(harness, 'mfc_agent_files_watched', {})).toBe(300);
  for (let file = 0; file < 300; file++)
    appendEvents(join(dir, `bot-${file}.log`), file * 10 + 5, 5);
  await waitFor(() => harness!.sink.delivered.length >= 3000);
  await service.drain();
  expect(deliveryProblems(harness.sink, range(0, 3000))).toEqual([]);
});
