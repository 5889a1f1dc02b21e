import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { ReadinessReport } from './health.js';
import { type Logger, LogRateLimiter } from './logger.js';
import type { Metrics } from './metrics.js';

export interface ObservabilityServerOptions {
  /** `host:port`, for example `127.0.0.1:9464`; IPv6 hosts go in brackets (`[::1]:9464`). */
  listen: string;
  metrics: Metrics;
  /** Readiness source, called on every `/ready` request. A throw becomes a 500 and a log line. */
  health: () => ReadinessReport;
  logger: Logger;
}

export interface ObservabilityServer {
  /** The bound `host:port`, with the real port when `listen` asked for port 0. */
  readonly address: string;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

/**
 * Starts the HTTP listener for Prometheus and probes: `/metrics` (text exposition), `/health`
 * (liveness: 200 while the process runs) and `/ready` (200 when delivering normally, else 503
 * with the reasons). Rejects with a message naming `metrics.listen` when the port cannot be bound.
 */
export async function startObservabilityServer(
  options: ObservabilityServerOptions
): Promise<ObservabilityServer> {
  const { host, port } = parseListenAddress(options.listen);
  // Reading the registry loads prom-client: do it now, so a load error stops the start and the
  // first scrape is not slower than the others.
  const registry = options.metrics.registry;
  const errorLimiter = new LogRateLimiter();
  const server = createServer((request, response) => {
    handleRequest(options, registry, request, response).catch((error: unknown) => {
      const suppressed = errorLimiter.take('request_failed');
      if (suppressed >= 0) {
        options.logger.error(
          { err: error, url: request.url, suppressed },
          'Observability request failed.'
        );
      }
      if (!response.headersSent) sendText(response, 500, 'internal error\n');
      else response.destroy();
    });
  });

  await listen(server, host, port, options.listen);
  const bound = server.address() as AddressInfo;
  const address = formatAddress(bound.address, bound.port);
  options.logger.info({ address }, 'Observability listener started.');
  return {
    address,
    close: () => closeServer(server, options.logger, address),
  };
}

/**
 * Splits `host:port` into its parts. Throws an error naming the value and the expected form
 * when the host is missing or the port is not an integer from 0 to 65535.
 */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65_535) {
    throw new Error(
      `metrics.listen "${listen}" is invalid: write host:port, for example 127.0.0.1:9464, ` +
        '0.0.0.0:9464 to listen on every interface, or [::1]:9464 for IPv6'
    );
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

async function handleRequest(
  options: ObservabilityServerOptions,
  registry: Registry,
  request: IncomingMessage,
  response: ServerResponse
): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendText(response, 405, 'method not allowed: use GET\n');
    return;
  }
  if (path === '/metrics') {
    const body = await registry.metrics();
    sendBody(response, 200, registry.contentType, body);
  } else if (path === '/health') {
    sendJson(response, 200, { status: 'ok' });
  } else if (path === '/ready') {
    const report = options.health();
    sendJson(response, report.ready ? 200 : 503, report);
  } else {
    sendText(response, 404, 'not found: the paths are /metrics, /health and /ready\n');
  }
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  sendBody(response, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  sendBody(response, status, 'text/plain; charset=utf-8', text);
}

function sendBody(response: ServerResponse, status: number, contentType: string, body: string) {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  // Node sends no body for HEAD, and Content-Length still gives the GET body's size.
  response.end(body);
}

function listen(server: Server, host: string, port: number, listenSetting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new Error(describeListenError(error, listenSetting), { cause: error }));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function describeListenError(error: NodeJS.ErrnoException, listenSetting: string): string {
  const prefix = `metrics.listen ${listenSetting}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${prefix}: the port is already in use; choose another port or stop the other process`;
    case 'EACCES':
      return `${prefix}: permission denied; use a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${prefix}: the host is not an address of this machine; use 127.0.0.1 or 0.0.0.0`;
    default:
      return `${prefix}: cannot listen (${error.code ?? error.message})`;
  }
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function closeServer(server: Server, logger: Logger, address: string): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => {
      logger.info({ address }, 'Observability listener stopped.');
      resolve();
    });
    server.closeAllConnections();
  });
}
