import { defineConfig } from 'vitest/config';

// The benchmark's own tests: the sink, the statistics and the generated inputs. They need no
// build of the agent. Run with `npx vitest run --config bench/vitest.config.mjs`.
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/test/**/*.test.mjs'],
    testTimeout: 30_000,
  },
});
