// One directory per measured run: the agent's configuration, state, followed logs and output.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a fresh directory for one run of `name` under `root` and returns its paths. `clean()`
 * removes the bulky parts (state with the outbox, followed logs) and keeps `agent.log`.
 */
export function makeRunDir(root, name) {
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  const paths = {
    dir,
    stateDir: join(dir, 'state'),
    logsDir: join(dir, 'logs'),
    configPath: join(dir, 'agent.yaml'),
    agentLog: join(dir, 'agent.log'),
    timeReport: join(dir, 'time.txt'),
  };
  mkdirSync(paths.logsDir);
  return {
    ...paths,
    clean: () => {
      rmSync(paths.stateDir, { recursive: true, force: true });
      rmSync(paths.logsDir, { recursive: true, force: true });
    },
  };
}
