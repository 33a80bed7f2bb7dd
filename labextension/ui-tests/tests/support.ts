/**
 * What every UI test shares: the server's URL and token (run.sh sets them), Debian's chromium with a fresh
 * user-data-dir (no browser is ever downloaded), and opening JupyterLab.
 */
import { BrowserContext, chromium, expect, Locator, Page, test as base } from '@playwright/test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const URL = (process.env.COLEARN_UI_URL || 'http://127.0.0.1:8888/').replace(/\/?$/, '/');
export const TOKEN = process.env.COLEARN_UI_TOKEN || '';
export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];

/** Playwright's `test` with a persistent chromium context in a temporary user-data-dir, removed afterwards. */
export const chromiumTest = base.extend<{ context: BrowserContext }>({
  context: async ({}, use) => {
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'colearn-ui-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 }
    });
    try {
      await use(context);
    } finally {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    }
  }
});

/**
 * `chromiumTest` with its `page`: the context's first page, the browser's errors that name colearn printed with the
 * test's output.
 */
export const pageTest = chromiumTest.extend<{ page: Page }>({
  page: async ({ context }, use) => {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', msg => {
      if (msg.type() === 'error' && msg.text().includes('colearn')) {
        console.log(`[browser] ${msg.text()}`);
      }
    });
    await use(page);
  }
});

/** Open JupyterLab (at `base`, default COLEARN_UI_URL) with the token and wait for its main area. */
export async function openLab(page: Page, base: string = URL): Promise<void> {
  await page.goto(`${base.replace(/\/?$/, '/')}lab?token=${encodeURIComponent(TOKEN)}`);
  await page.locator('#jp-main-dock-panel').waitFor({ state: 'visible', timeout: 90_000 });
}

/** Open the colearn sidebar from its tab on the left; fail if the panel is missing or empty. */
export async function openSidebar(page: Page): Promise<Locator> {
  const tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="colearn-sidebar"]');
  await expect(tab, 'the colearn tab in the left sidebar').toBeVisible();
  const panel = page.locator('#colearn-sidebar');
  // A workspace restored with the sidebar open shows it a moment after the tab appears: a click then would close
  // it. So click only while it is hidden, and look again after each click.
  for (let attempt = 0; attempt < 3 && !(await panel.isVisible()); attempt++) {
    await tab.click();
    try {
      await panel.waitFor({ state: 'visible', timeout: 5_000 });
    } catch {
      // it was opening as we clicked, and the click closed it: the next round opens it again
    }
  }
  await expect(panel, 'the colearn sidebar panel').toBeVisible();
  await expect(panel.getByTestId('colearn-panel')).toBeVisible();
  await expect(panel.getByTestId('colearn-market')).toBeVisible();
  const text = (await panel.innerText()).trim();
  expect(text.length, 'the colearn panel is empty').toBeGreaterThan(20);
  return panel;
}

/**
 * Open a submission's verification detail in the sidebar's Verify tab (unless it is open already) and wait until its
 * file checks out (CID, row count, Merkle root, rows); returns the detail.
 */
export async function openVerification(panel: Locator, submission: number, timeout = 90_000): Promise<Locator> {
  await panel.getByTestId('colearn-tab-queue').click();
  const item = panel.getByTestId(`colearn-contribution-${submission}`);
  await expect(item).toBeVisible();
  if ((await item.getAttribute('aria-pressed')) !== 'true') {
    await item.click();
  }
  const detail = panel.getByTestId('colearn-contribution-detail');
  await expect(detail.getByTestId('colearn-integrity')).toHaveText('CID ✔ · row count ✔ · Merkle root ✔ · rows ✔', {
    timeout
  });
  return detail;
}

/**
 * Save a screenshot for a reviewer as `screenshots/<name>.png`: of `what`, an element, or `'page'` (the whole
 * window); by default the colearn sidebar.
 */
export async function shoot(page: Page, name: string, what?: Locator | 'page'): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  if (what === 'page') {
    await page.screenshot({ path: file });
  } else {
    await (what ?? page.locator('#colearn-sidebar')).screenshot({ path: file });
  }
}

/** Switch JupyterLab's theme (needs --LabApp.expose_app_in_browser=True); waits until it applies. */
export async function setTheme(page: Page, theme: 'JupyterLab Light' | 'JupyterLab Dark'): Promise<void> {
  await page.waitForFunction(() => Boolean((window as any).jupyterapp), undefined, { timeout: 60_000 });
  await page.evaluate(name => (window as any).jupyterapp.commands.execute('apputils:change-theme', { theme: name }), theme);
  const light = theme === 'JupyterLab Light' ? 'true' : 'false';
  await page.waitForFunction(value => document.body.dataset.jpThemeLight === value, light, { timeout: 30_000 });
}

/** Whether an element's content is wider than the element (it scrolls sideways, or is cut). */
export async function overflowsSideways(what: Locator): Promise<boolean> {
  return what.evaluate(el => el.scrollWidth > el.clientWidth + 1);
}
