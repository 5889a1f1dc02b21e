#!/usr/bin/env -S node --single-threaded-gc --v8-pool-size=1
// Entry point of the installed command: runs the compiled CLI from build/.
// The node flags above keep garbage collection on the main thread with one V8 worker thread.
// The agent shares a small server with the bot, and the flags took about 2 MiB off its peak RSS
// (1 GiB catch-up, Node 20.20, 2 vCPU). Launchers that run `node FILE` pass them themselves.
// The heap flags are set before the CLI loads; build/cli/heap-flags.js explains which and why.

try {
  const { applyHeapFlags } = await import('../build/cli/heap-flags.js');
  applyHeapFlags();
  const { main } = await import('../build/cli/main.js');
  await main(process.argv);
} catch (error) {
  process.stderr.write(
    `mfc-events-agent: ${error instanceof Error ? error.message : String(error)}\n`
  );
  process.exit(1);
}
