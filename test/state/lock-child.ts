// Child process of the lock test: takes the state-directory lock, reports ready, and keeps
// running until the parent kills it.
import { writeSync } from 'node:fs';
import { acquireStateLock } from '../../src/state/lock.js';

acquireStateLock(process.argv[2]!);
writeSync(1, 'ready\n');
setInterval(() => undefined, 60_000);
