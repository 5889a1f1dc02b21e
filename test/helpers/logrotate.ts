import { execFile } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where Debian installs logrotate (`apt-get install -y logrotate`). */
export const LOGROTATE_BINARY = '/usr/sbin/logrotate';

/** True when the logrotate binary is installed and executable. */
export function hasLogrotate(): boolean {
  try {
    accessSync(LOGROTATE_BINARY, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the real logrotate once with a generated configuration, forced (`-f`), with its own
 * state file (`-s`) in `workDir` so the system's logrotate state is never touched. The
 * directives go inside one block for `logPath`, for example `['create', 'rotate 5']`.
 * Rejects with logrotate's stderr when it fails.
 */
export async function runLogrotate(
  workDir: string,
  logPath: string,
  directives: readonly string[]
): Promise<void> {
  const configPath = join(workDir, 'logrotate.conf');
  const statePath = join(workDir, 'logrotate.state');
  const body = directives.map((directive) => `  ${directive.replace(/\n/g, '\n  ')}`).join('\n');
  // logrotate (run as root) refuses a configuration writable by group or others.
  writeFileSync(configPath, `${logPath} {\n${body}\n}\n`, { mode: 0o600 });
  try {
    await execFileAsync(LOGROTATE_BINARY, ['-f', '-s', statePath, configPath], { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `logrotate failed for ${logPath} with ${directives.join('; ')}: ${stderr || String(error)}`
    );
  }
}

/** Returns a `postrotate` block that sends SIGHUP to a writer so it reopens its log file. */
export function postrotateSignal(pid: number): string {
  return `postrotate\n  kill -HUP ${pid}\nendscript`;
}
