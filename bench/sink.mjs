#!/usr/bin/env node
// The tracker's S2S endpoint as a benchmark sink: responds 200 {"message":"OK"} to
// POST /v1/customEvent/?idApp=N on 127.0.0.1, counts requests and events, and sums the
// customUserId digits exactly. It checks no token and no schema: it measures, it does not judge.
//
//   node bench/sink.mjs [--port N] [--delay-ms N] [--expect N] [--idle-exit S]
//
// Prints "sink: listening on URL" to stderr once bound, and one JSON line of results to stdout
// on SIGTERM, SIGINT, after --expect events, or after --idle-exit seconds without a request.

import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ENDPOINT_PATH = '/v1/customEvent/';
const USER_ID_PATTERN = /"customUserId"\s*:\s*"?(\d+)"?/g;
const EVENT_NAME_PATTERN = /"customEventName"\s*:\s*"([^"\\]*)"/g;

/**
 * Starts the sink on 127.0.0.1. `delayMs` delays every response by that many ms; `onEvent` is called
 * with `{ userId, name, receivedAtMs }` for every event once its request body is read, where
 * `receivedAtMs` is `performance.now()` of this process. Resolves once the server listens.
 */
export async function startSink({ port = 0, delayMs = 0, onEvent } = {}) {
  const stats = newStats();
  const server = createServer((request, response) => {
    handleRequest(request, response, { stats, delayMs, onEvent });
  });
  // Requests wait in `delayMs`; keep sockets open long enough for a 64-wide client pool.
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const boundPort = server.address().port;
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}${ENDPOINT_PATH}`,
    stats: () => snapshot(stats),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function newStats() {
  return {
    requests: 0,
    rejected: 0,
    events: 0,
    byName: {},
    userIdSum: 0n,
    firstAt: null,
    lastAt: null,
    inFlight: 0,
    maxInFlight: 0,
    duplicateBodies: 0,
    seenBodies: new Set(),
  };
}

function snapshot(stats) {
  return {
    requests: stats.requests,
    rejected: stats.rejected,
    events: stats.events,
    byName: { ...stats.byName },
    userIdSum: stats.userIdSum.toString(),
    firstAt: stats.firstAt,
    lastAt: stats.lastAt,
    maxInFlight: stats.maxInFlight,
    duplicateBodies: stats.duplicateBodies,
  };
}

function handleRequest(request, response, { stats, delayMs, onEvent }) {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const accepted =
    request.method === 'POST' &&
    url.pathname === ENDPOINT_PATH &&
    /^\d+$/.test(url.searchParams.get('idApp') ?? '');
  const chunks = [];
  stats.inFlight += 1;
  stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const receivedAtMs = performance.now();
    if (accepted) {
      countBody(stats, Buffer.concat(chunks).toString('utf8'), receivedAtMs, onEvent);
    } else {
      stats.rejected += 1;
    }
    const answer = () => {
      stats.inFlight -= 1;
      const status = accepted ? 200 : 404;
      const body = accepted ? '{"message":"OK"}' : '{"error":"Method not found"}';
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
}

/** Counts one accepted body; its user ids are summed from the raw digits, never via a double. */
function countBody(stats, text, receivedAtMs, onEvent) {
  const now = Date.now();
  stats.requests += 1;
  stats.firstAt ??= now;
  stats.lastAt = now;
  if (stats.seenBodies.has(text)) stats.duplicateBodies += 1;
  else stats.seenBodies.add(text);

  const names = [...text.matchAll(EVENT_NAME_PATTERN)].map((match) => match[1]);
  const userIds = [...text.matchAll(USER_ID_PATTERN)].map((match) => match[1]);
  userIds.forEach((userId, index) => {
    const name = names[index] ?? '';
    stats.events += 1;
    stats.byName[name] = (stats.byName[name] ?? 0) + 1;
    stats.userIdSum += BigInt(userId);
    onEvent?.({ userId, name, receivedAtMs });
  });
}

function parseArguments(argv) {
  const options = { port: 0, delayMs: 0, expect: 0, idleExitSeconds: 0 };
  const names = {
    '--port': 'port',
    '--delay-ms': 'delayMs',
    '--expect': 'expect',
    '--idle-exit': 'idleExitSeconds',
  };
  for (let index = 0; index < argv.length; index += 2) {
    const key = names[argv[index]];
    const value = Number(argv[index + 1]);
    if (key === undefined) {
      throw new Error(`unknown option ${argv[index]}; expected one of ${Object.keys(names)}`);
    }
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(
        `${argv[index]}: invalid value '${argv[index + 1]}'; expected a whole number`
      );
    }
    options[key] = value;
  }
  return options;
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  let lastRequestAt = Date.now();
  let finished = false;
  const sink = await startSink({
    port: options.port,
    delayMs: options.delayMs,
    onEvent: () => {
      lastRequestAt = Date.now();
      if (options.expect > 0 && sink.stats().events >= options.expect) void finish();
    },
  });
  const startedAt = Date.now();
  const finish = async () => {
    if (finished) return;
    finished = true;
    const result = { ...sink.stats(), elapsedMs: Date.now() - startedAt };
    await sink.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  if (options.idleExitSeconds > 0) {
    setInterval(() => {
      if (Date.now() - lastRequestAt > options.idleExitSeconds * 1000) void finish();
    }, 200).unref();
  }
  process.stderr.write(`sink: listening on ${sink.url}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`sink: ${error.message}\n`);
    process.exit(2);
  });
}
