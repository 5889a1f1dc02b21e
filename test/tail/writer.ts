import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WRITER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'writer.mjs');

/**
 * A child process appending numbered event lines to a log through one open descriptor, and
 * reopening the path on SIGHUP (what logrotate's postrotate sends).
 */
export class LogWriter {
  readonly done: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.done = once(child, 'exit').then(() => undefined);
  }

  /** Starts writing events `from .. from + count - 1`, `perTick` lines every `intervalMs`. */
  static async start(
    path: string,
    from: number,
    count: number,
    intervalMs: number,
    perTick = 1
  ): Promise<LogWriter> {
    const child = spawn(
      process.execPath,
      [WRITER_SCRIPT, path, String(from), String(count), String(intervalMs), String(perTick)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      }
    );
    await once(child.stdout!, 'data');
    return new LogWriter(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Freezes the writer (SIGSTOP), so a copy and truncation cannot lose a line in between. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.done;
  }
}
