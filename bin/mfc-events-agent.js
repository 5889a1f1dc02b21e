#!/usr/bin/env -S node --single-threaded-gc --v8-pool-size=1
// Entry point of the installed command: runs the compiled CLI from build/.
// The node flags above keep garbage collection on the main thread with one V8 worker thread.
// The agent shares a small server with the bot, and the flags took about 2 MiB off its peak RSS
// (1 GiB catch-up, Node 20.20, 2 vCPU). Launchers that run `node FILE` pass them themselves.
import { setFlagsFromString } from 'node:v8';

// V8 heap settings for a small resident set, applied before the CLI's modules load; Node 20
// lets both change at run time. --semi-space-growth-factor=1 keeps the young generation at its
// initial 1 MiB semi-space instead of letting it grow to 16 MiB, and --optimize-for-size
// starts full collections sooner. On a 1 GiB catch-up (Node 20.20, 2 vCPU, median of 6 runs)
// peak RSS fell from 107 to 80 MiB, for 3 % more wall time and 5 % more CPU time.
// The packaging/bundle.mjs entry applies the same flags.
// NOTE: given at startup, --semi-space-growth-factor=1 has no effect on Node 20.20 (the young
// generation still grows to 16 MiB semi-spaces); only the change at run time pins it.
// Launchers that can pass node flags (the .deb wrapper, the pm2 file) use the documented
// --max-semi-space-size=1 instead, and then this one is skipped.
const given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
// A young-generation or size flag given to node itself wins over these.
if (!/semi[-_]space/.test(given)) setFlagsFromString('--semi-space-growth-factor=1');
if (!/optimize[-_]for[-_]size/.test(given)) setFlagsFromString('--optimize-for-size');

try {
  const { main } = await import('../build/cli/main.js');
  await main(process.argv);
} catch (error) {
  process.stderr.write(
    `mfc-events-agent: ${error instanceof Error ? error.message : String(error)}\n`
  );
  process.exit(1);
}
