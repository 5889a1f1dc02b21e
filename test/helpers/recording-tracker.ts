import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the tracker received it, body kept as raw text so ids are compared digit by digit. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export type Answer =
  | { status: number; body: string; headers?: Record<string, string>; delayMs?: number }
  | 'drop';

/**
 * A tracker stand-in for process tests, independent of the agent's own mock tracker: it records
 * raw requests and responds 200 unless `answer` scripts something else.
 */
export class RecordingTracker {
  readonly requests: RecordedRequest[] = [];
  /** Requests that got status 200, in order of arrival. */
  readonly accepted: RecordedRequest[] = [];
  answer: (request: RecordedRequest, index: number) => Answer = () => ({
    status: 200,
    body: '{"message":"OK"}',
  });
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

  /** Stops listening and cuts open connections, so the agent loses the tracker. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Counts accepted events per customUserId. */
  countsByUser(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of this.accepted) {
      const match = /"customUserId":"(\d+)"/.exec(request.body);
      const id = match?.[1] ?? '?';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: RecordedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = this.requests.push(recorded) - 1;
      const answer = this.answer(recorded, index);
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      const send = () => {
        if (answer.status === 200) this.accepted.push(recorded);
        response.writeHead(answer.status, {
          'content-type': 'application/json',
          ...answer.headers,
        });
        response.end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }
}
