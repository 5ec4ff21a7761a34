import { defineConfig } from '@playwright/test';

/**
 * Network tests (`npm run test:net`): the real server in one network namespace behind nftables,
 * Chromium in another. Needs root and `ip netns`; the tests skip otherwise. Browsers are launched by
 * the tests themselves (inside the client namespace), so there is no `use.launchOptions` here.
 */
export default defineConfig({
  testDir: 'test/net',
  outputDir: 'test-results/net-artifacts',
  globalSetup: './test/net/global-setup.ts',
  globalTeardown: './test/net/global-setup.ts',
  timeout: 120_000,
  globalTimeout: 15 * 60_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
});
