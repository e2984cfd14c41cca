import { defineConfig } from 'vitest/config';

/** The interoperability suite: the same checks against Debian's daemons (unbound, rbldnsd, Postfix, MariaDB). */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
