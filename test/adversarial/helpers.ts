import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { CLI_BUNDLE } from '../global-setup.js';
import {
  appointmentLine,
  makeTempDir,
  noiseLine,
  TEST_APP_ID,
  TEST_TOKEN,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';

export { appointmentLine, noiseLine, waitFor };

/** User id that `appointmentLine(n)` writes. */
export function userIdOf(n: number): string {
  return String(1_000_000 + n);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lines for events `from..to`, each after a noise line, as one string. */
export function eventLines(from: number, to: number): string {
  let text = '';
  for (let n = from; n <= to; n++) text += noiseLine(n) + appointmentLine(n);
  return text;
}

export function appendEvents(path: string, from: number, to: number): void {
  appendFileSync(path, eventLines(from, to));
}

/** How the tracker treats one request: answer now, answer after `delayMs`, or hold it. */
export type TrackerReply = { status: number; body?: string; delayMs?: number } | 'hold';

interface HeldReply {
  request: IncomingMessage;
  response: ServerResponse;
  body: string;
}

/**
 * A tracker on 127.0.0.1 that counts an event as accepted only when its 200 answer was written
 * to a connection still open. `hold` keeps answers back, so requests in flight when the agent
 * is killed are never accepted and any accepted duplicate is the agent's fault.
 */
export class StrictTracker {
  /** Raw bodies of every request, in arrival order. */
  readonly received: string[] = [];
  /** Raw bodies answered 200 on an open connection. */
  readonly accepted: string[] = [];
  reply: (body: string, index: number) => TrackerReply = () => ({ status: 200 });
  private holding = false;
  private readonly held: HeldReply[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/v1/customEvent/`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Holds every answer from now on until `release`. */
  hold(): void {
    this.holding = true;
  }

  /**
   * Cuts the connections of the held requests without answering them: after a kill their
   * answers could still be written into a socket whose reader is gone, and count as accepted.
   */
  dropHeld(): void {
    for (const held of this.held.splice(0)) held.request.socket.destroy();
  }

  /** Answers the held requests whose connection is still open, and stops holding. */
  release(): void {
    this.holding = false;
    for (const held of this.held.splice(0)) this.answer(held, { status: 200 });
  }

  /** Accepted events per user id. */
  countsByUser(): Map<string, number> {
    return countUsers(this.accepted);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const index = this.received.push(body) - 1;
      const held = { request, response, body };
      if (this.holding) {
        this.held.push(held);
        return;
      }
      const reply = this.reply(body, index);
      if (reply === 'hold') {
        this.held.push(held);
        return;
      }
      if (reply.delayMs) setTimeout(() => this.answer(held, reply), reply.delayMs);
      else this.answer(held, reply);
    });
  }

  private answer(held: HeldReply, reply: { status: number; body?: string }): void {
    const { response, body } = held;
    if (response.destroyed || held.request.socket.destroyed) return;
    if (reply.status === 200) this.accepted.push(body);
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(reply.body ?? (reply.status === 200 ? '{"message":"OK"}' : '{"error":"x"}'));
  }
}

/** Counts request bodies per `customUserId`. */
export function countUsers(bodies: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const body of bodies) {
    const id = /"customUserId":"(\d+)"/.exec(body)?.[1] ?? '?';
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Event numbers of `1..count` never accepted, and those accepted more than once. */
export function deliveryReport(
  counts: ReadonlyMap<string, number>,
  numbers: Iterable<number>
): { missing: number[]; repeated: number[] } {
  const missing: number[] = [];
  const repeated: number[] = [];
  for (const n of numbers) {
    const seen = counts.get(userIdOf(n)) ?? 0;
    if (seen === 0) missing.push(n);
    if (seen > 1) repeated.push(n);
  }
  return { missing, repeated };
}

export function range(from: number, to: number): number[] {
  const numbers: number[] = [];
  for (let n = from; n <= to; n++) numbers.push(n);
  return numbers;
}

/** A running CLI child; stdout and stderr are collected together. */
export interface AgentChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the CLI bundle as a child process, optionally as another user (when run as root). */
export function startAgent(args: string[], user?: { uid: number; gid: number }): AgentChild {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ?? {}),
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on('close', (code, signal) => {
        if (output.includes(TEST_TOKEN)) reject(new Error(`the token leaked:\n${output}`));
        else resolve({ code, signal });
      });
    }
  );
  return { child, output: () => output, exited };
}

/** Kills a child with SIGKILL and waits until it is gone. */
export async function killHard(agent: AgentChild | null): Promise<void> {
  if (agent === null || agent.child.exitCode !== null || agent.child.signalCode !== null) return;
  agent.child.kill('SIGKILL');
  await agent.exited.catch(() => undefined);
}

/** Runs the CLI to its exit and returns its status and output. */
export async function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  const agent = startAgent(args);
  const { code } = await agent.exited;
  return { code, output: agent.output() };
}

/** Messages (`msg`) of the agent's JSON log lines in an output. */
export function logMessages(output: string): string[] {
  const messages: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { msg?: unknown };
      if (typeof parsed.msg === 'string') messages.push(parsed.msg);
    } catch {
      // Not a log line.
    }
  }
  return messages;
}

/** A temp dir with `logs/`, `state/` and a config for one bot reading `logs/*.log`. */
export interface Workspace {
  dir: string;
  logs: string;
  stateDir: string;
  config: string;
}

export function makeWorkspace(
  prefix: string,
  trackerUrl: string,
  options: {
    extra?: Record<string, unknown>;
    bot?: Record<string, unknown>;
    /** Keys added to the tracker section, such as `timeoutMs`. */
    tracker?: Record<string, unknown>;
    glob?: string;
  } = {}
): Workspace {
  const dir = makeTempDir(`adv-${prefix}`);
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const stateDir = join(dir, 'state');
  const extra = { ...options.extra };
  // `state` replaces the whole section, so the temp state dir is put back into it.
  if (extra.state !== undefined) {
    extra.state = { flushIntervalMs: 200, ...(extra.state as object), dir: stateDir };
  }
  if (options.tracker !== undefined) {
    const base = { url: trackerUrl, appId: TEST_APP_ID, token: TEST_TOKEN, region: '88' };
    extra.tracker = { ...base, ...options.tracker };
  }
  const config = writeAgentConfig(dir, {
    trackerUrl,
    logGlob: join(logs, options.glob ?? '*.log'),
    stateDir,
    extra,
    bot: options.bot ?? {},
  });
  return { dir, logs, stateDir, config };
}

/** Hands a workspace to `uid:gid` so an agent run as that user can read and write it. */
export function chownWorkspace(workspace: Workspace, uid: number, gid: number): void {
  for (const path of [workspace.dir, workspace.logs, workspace.config]) {
    chownSync(path, uid, gid);
  }
  chmodSync(workspace.dir, 0o755);
}

export function writeLog(path: string, text: string | Buffer): void {
  writeFileSync(path, text);
}

/** `savedAt` of the state file in `stateDir`, or 0 when there is none yet. */
export function stateSavedAt(stateDir: string): number {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')).savedAt as number;
  } catch {
    return 0;
  }
}

/** Waits until the agent has saved its state after `sinceMs` (epoch ms). */
export async function waitForSave(stateDir: string, sinceMs: number): Promise<void> {
  await waitFor(() => stateSavedAt(stateDir) > sinceMs, 'a state save');
}
