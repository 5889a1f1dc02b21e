import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReadinessReport } from '../../src/observability/health.js';
import {
  type ObservabilityServer,
  parseListenAddress,
  startObservabilityServer,
} from '../../src/observability/http-server.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';

const servers: ObservabilityServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function capturedLogger() {
  const destination = new PassThrough();
  const lines: string[] = [];
  destination.on('data', (chunk: Buffer) =>
    lines.push(...chunk.toString().split('\n').filter(Boolean))
  );
  return { logger: createLogger({ format: 'json', destination }), lines };
}

async function start(health: () => ReadinessReport = () => ({ ready: true, reasons: [] })) {
  const metrics = createMetrics();
  const { logger, lines } = capturedLogger();
  const server = await startObservabilityServer({ listen: '127.0.0.1:0', metrics, health, logger });
  servers.push(server);
  return { server, metrics, lines, url: `http://${server.address}` };
}

describe('observability listener', () => {
  it('binds the requested host', async () => {
    const { server, lines } = await start();
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.address).not.toBe('127.0.0.1:0');
    expect(lines.some((line) => line.includes('Observability listener started.'))).toBe(true);
  });

  it('serves Prometheus metrics', async () => {
    const { metrics, url } = await start();
    metrics.eventsAcknowledged.inc({ event: 'appointment_open' }, 3);
    metrics.outboxEvents.set(7);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const body = await response.text();
    expect(body).toContain('mfc_agent_events_acknowledged_total{event="appointment_open"} 3');
    expect(body).toContain('mfc_agent_outbox_events 7');
  });

  it('health is always ok', async () => {
    const { url } = await start(() => ({ ready: false, reasons: ['outbox_full: x'] }));
    const response = await fetch(`${url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('ready returns 200', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ready: true, reasons: [] });
  });

  it('not ready returns 503', async () => {
    const report = { ready: false, reasons: ['token_rejected: 403 Forbidden'] };
    const { url } = await start(() => report);
    const response = await fetch(`${url}/ready`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual(report);
  });

  it('readiness read per request', async () => {
    let report: ReadinessReport = { ready: true, reasons: [] };
    const { url } = await start(() => report);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    report = { ready: false, reasons: ['state_not_writable: EROFS'] };
    expect((await fetch(`${url}/ready`)).status).toBe(503);
  });

  it('query string ignored', async () => {
    const { url } = await start();
    expect((await fetch(`${url}/health?probe=1`)).status).toBe(200);
  });

  it('unknown path returns 404', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/status`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('/metrics');
  });

  it('POST returns 405', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/metrics`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('HEAD has headers only', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/health`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('throwing health returns 500', async () => {
    const { url, lines } = await start(() => {
      throw new Error('dispatcher gone');
    });
    const response = await fetch(`${url}/ready`);
    expect(response.status).toBe(500);
    expect(lines.some((line) => line.includes('dispatcher gone'))).toBe(true);
  });

  it('busy port names the setting', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const { logger } = capturedLogger();
      await expect(
        startObservabilityServer({
          listen: `127.0.0.1:${port}`,
          metrics: createMetrics(),
          health: () => ({ ready: true, reasons: [] }),
          logger,
        })
      ).rejects.toThrow(`metrics.listen 127.0.0.1:${port}: the port is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('close frees the port', async () => {
    const { server, url } = await start();
    await fetch(`${url}/health`);
    await server.close();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    await server.close();
  });
});

describe('parseListenAddress', () => {
  it('parses IPv4 host and port', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
  });

  it('parses bracketed IPv6', () => {
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  });

  it('parses a host name', () => {
    expect(parseListenAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  it.each(['9464', ':9464', '127.0.0.1', '127.0.0.1:port', '127.0.0.1:70000', '::1:9464', ''])(
    'rejects %j',
    (value) => {
      expect(() => parseListenAddress(value)).toThrow(`metrics.listen "${value}" is invalid`);
    }
  );
});
