/**
 * Playwright against a running JupyterLab (COLEARN_UI_URL, COLEARN_UI_TOKEN), with Debian's chromium:
 * no browser is ever downloaded. `run.sh` sets everything up (and `run-hardhat.sh` for the hardhat project).
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 180_000,
  expect: { timeout: 30_000 },
  retries: 0,
  workers: 1,
  reporter: [['list']],
  use: {
    viewport: { width: 1400, height: 900 },
    actionTimeout: 30_000,
    navigationTimeout: 90_000,
    trace: 'off'
  },
  // run.sh runs "devnet" against the embedded devnet, run-hardhat.sh "hardhat" against a hardhat node (chain 1337)
  projects: [
    { name: 'devnet', testIgnore: /hardhat\.spec\.ts$/ },
    { name: 'hardhat', testMatch: /hardhat\.spec\.ts$/ }
  ]
});
