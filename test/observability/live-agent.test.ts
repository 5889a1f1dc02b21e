import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  appointmentLine,
  makeTempDir,
  startCli,
  waitFor,
  writeAgentConfig,
} from '../helpers/agent-process.js';
import { RecordingTracker } from '../helpers/recording-tracker.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls until `check` resolves true; the agent's state changes arrive asynchronously. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('running agent observability', () => {
  let tracker: RecordingTracker;
  let dir: string;
  let agent: AgentProcess | null = null;

  beforeEach(async () => {
    tracker = new RecordingTracker();
    await tracker.start();
    dir = makeTempDir('live');
    mkdirSync(join(dir, 'logs'));
  });

  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await agent?.exited.catch(() => undefined);
    agent = null;
    await tracker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('probes, metrics and status agree', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const log = join(dir, 'logs', 'bot.log');
    writeFileSync(log, appointmentLine(1) + appointmentLine(2, 'cancelled'));
    const stateDir = join(dir, 'state');
    const config = writeAgentConfig(dir, {
      trackerUrl: tracker.url,
      logGlob: join(dir, 'logs', '*.log'),
      stateDir,
      extra: { metrics: { enabled: true, listen: `127.0.0.1:${port}` } },
    });
    const statusOf = async (...flags: string[]) => {
      const cli = startCli(['status', '--config', config, ...flags]);
      const { code } = await cli.exited;
      return { code, output: cli.output() };
    };

    // Delivering: ready, counted in /metrics and in status.
    agent = startCli(['run', '--config', config]);
    await waitFor(() => tracker.accepted.length === 2, 'two acknowledged events');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    await eventually(async () => (await fetch(`${base}/ready`)).status === 200, '/ready 200');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('mfc_agent_events_acknowledged_total{event="appointment_open"} 1');
    expect(metrics).toContain('mfc_agent_events_acknowledged_total{event="appointment_cancel"} 1');
    await eventually(async () => {
      const snapshot = JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8'));
      return snapshot.today.acknowledged.appointment_cancel === 1;
    }, 'status.json with both acknowledgements');
    const running = await statusOf();
    expect(running.output).toContain(`running, pid ${agent.child.pid}`);
    expect(running.output).toMatch(/appointment_open 1, appointment_cancel 1/);
    expect(running.output).toContain(log);
    expect(running.code).toBe(0);

    // Token rejected: paused, not ready, status exits 1.
    tracker.answer = () => ({ status: 403, body: '{"error": "Forbidden"}' });
    appendFileSync(log, appointmentLine(3));
    await eventually(async () => (await fetch(`${base}/ready`)).status === 503, '/ready 503');
    const ready = (await (await fetch(`${base}/ready`)).json()) as {
      ready: boolean;
      reasons: string[];
    };
    expect(ready.ready).toBe(false);
    expect(ready.reasons[0]).toMatch(/^token_rejected: /);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      'mfc_agent_delivery_paused{reason="token_rejected"} 1'
    );
    await eventually(
      async () => (await statusOf()).output.includes('PAUSED (token_rejected)'),
      'paused status'
    );
    expect((await statusOf()).code).toBe(1);

    // Killed: status reports the dead pid.
    agent.child.kill('SIGKILL');
    await agent.exited;
    const stopped = await statusOf('--json');
    expect(JSON.parse(stopped.output).running).toBe(false);
    expect(JSON.parse(stopped.output).reason).toBe(`process ${agent.child.pid} is not alive`);
    expect(stopped.code).toBe(1);
    expect(existsSync(join(stateDir, 'status.json'))).toBe(true);
  });
});
