/**
 * Stored XSS in the browser: a stranger's model whose name, description, feature and label names, label values
 * and row values are payloads (tests/xss_payloads.py, planted by setup_marketplace.py), a batch of payload rows
 * and a label challenge of one of them. Each payload sets `window.__xss` (or opens a dialog) if it ever runs.
 *
 * The sidebar (React) and a notebook run in JupyterLab (the notebook reprs, trusted as the user's own outputs,
 * and the ipywidgets panels, whose HTML widgets set innerHTML) must show the payloads as text: nothing fires,
 * and no element or handler comes from them.
 *
 * Environment (run.sh): COLEARN_UI_URL, COLEARN_UI_TOKEN, COLEARN_UI_XSS_MODEL_ID, COLEARN_UI_XSS_SUBMISSION_ID,
 * COLEARN_UI_XSS_CHALLENGE_ID, COLEARN_UI_XSS_NOTEBOOK, COLEARN_UI_XSS_NAME. JupyterLab runs with
 * --LabApp.expose_app_in_browser=True (window.jupyterapp) so the test can open and run the notebook.
 */
import { expect, Locator, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

import { chromiumTest, openLab, openSidebar, openVerification, SCREENSHOTS } from './support';

const MODEL_ID = Number(process.env.COLEARN_UI_XSS_MODEL_ID || '0');
const SUBMISSION_ID = Number(process.env.COLEARN_UI_XSS_SUBMISSION_ID || '0');
const CHALLENGE_ID = Number(process.env.COLEARN_UI_XSS_CHALLENGE_ID || '0');
const NOTEBOOK = process.env.COLEARN_UI_XSS_NOTEBOOK || 'xss.ipynb';
const NAME = process.env.COLEARN_UI_XSS_NAME || '';
/** in the name and among the label values (tests/xss_payloads.py: IMG) */
const IMG = '<img src=x onerror="window.__xss=1">';

/** A page in Debian's chromium with a fresh user-data-dir; every dialog is recorded (and dismissed). */
const test = chromiumTest.extend<{ page: Page; dialogs: string[] }>({
  dialogs: async ({}, use) => {
    await use([]);
  },
  page: async ({ context, dialogs }, use) => {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', dialog => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await use(page);
  }
});


/**
 * What in `root` could have come from a payload: elements a payload would create, a payload in a handler or in
 * an attribute the browser loads or runs (href, src, style...), and whether any payload ran (`window.__xss`).
 */
async function injected(root: Locator): Promise<{ found: string[]; fired: unknown }> {
  const found = await root.evaluateAll(nodes => {
    const URL_ATTRIBUTES = ['href', 'xlink:href', 'src', 'srcdoc', 'srcset', 'action', 'formaction', 'data', 'style'];
    const out: string[] = [];
    for (const node of nodes) {
      for (const el of [node, ...Array.from(node.querySelectorAll('*'))]) {
        const tag = el.tagName.toLowerCase();
        if (tag === 'img' && el.getAttribute('src') === 'x') {
          out.push('<img src=x>');
        }
        if (tag === 'script' && (el.textContent || '').includes('__xss')) {
          out.push('<script> with the payload');
        }
        for (const attr of Array.from(el.attributes)) {
          // attributes a browser runs or loads (a title, a value or a data-* attribute is text)
          const runs = attr.name.startsWith('on') || URL_ATTRIBUTES.includes(attr.name);
          const value = attr.value.toLowerCase();
          if (runs && (value.includes('__xss') || value.includes('javascript:'))) {
            out.push(`${attr.name}="${attr.value}" on <${tag}>`);
          }
        }
      }
    }
    return out;
  });
  const fired = await root.page().evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
  return { found, fired };
}

async function expectNothingFired(page: Page, root: Locator, dialogs: string[]): Promise<void> {
  await page.waitForTimeout(1000); // an onerror of a broken image fires asynchronously
  const { found, fired } = await injected(root);
  expect(found, 'elements or attributes made from a payload').toEqual([]);
  expect(fired, 'window.__xss set by a payload').toBeUndefined();
  expect(dialogs, 'dialogs opened by a payload').toEqual([]);
}

async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

test('the sidebar shows a stranger\'s payloads as text', async ({ page, dialogs }) => {
  expect(MODEL_ID, 'COLEARN_UI_XSS_MODEL_ID (from setup_marketplace.py)').toBeGreaterThan(0);
  expect(NAME).toContain(IMG);
  await openLab(page);
  const panel = await openSidebar(page);
  try {
    await test.step('the model list and the model card', async () => {
      const item = panel.getByTestId(`colearn-model-${MODEL_ID}`);
      await expect(item).toContainText(NAME);
      await item.click();
      const card = panel.getByTestId('colearn-model-card');
      await expect(card).toContainText(NAME);
      await expect(card.getByTestId('colearn-accuracy-chart')).toBeVisible();
      await expectNothingFired(page, panel, dialogs);
    });

    await test.step('the submission\'s verdicts (payload labels) and the pending challenge', async () => {
      const detail = await openVerification(panel, SUBMISSION_ID);
      await expect(detail.getByTestId('colearn-verdicts')).toContainText(IMG);
      await expect(panel.getByTestId(`colearn-challenge-${CHALLENGE_ID}`)).toBeVisible();
      await expectNothingFired(page, panel, dialogs);
      await screenshot(page, 'xss-sidebar');
    });

    await test.step('nothing fired anywhere in the page', async () => {
      await panel.getByTestId('colearn-tab-market').click();
      await expectNothingFired(page, page.locator('body'), dialogs);
    });
  } catch (error) {
    await screenshot(page, 'xss-sidebar-failure');
    throw error;
  }
});

test('a notebook shows a stranger\'s payloads as text: reprs and ipywidgets panels', async ({
  page,
  dialogs
}) => {
  expect(MODEL_ID, 'COLEARN_UI_XSS_MODEL_ID (from setup_marketplace.py)').toBeGreaterThan(0);
  await openLab(page);
  await page.waitForFunction(() => Boolean((window as any).jupyterapp), undefined, { timeout: 60_000 });
  try {
    await page.evaluate(async notebook => {
      const app = (window as any).jupyterapp;
      const panel = await app.commands.execute('docmanager:open', { path: notebook, factory: 'Notebook' });
      await panel.context.ready;
      await panel.sessionContext.ready;
    }, NOTEBOOK);
    // the notebook shown (another one restored with the layout is a hidden tab)
    const notebook = page
      .locator('.jp-NotebookPanel:not(.lm-mod-hidden)')
      .filter({ has: page.locator('.jp-Notebook') })
      .first();
    await expect(notebook).toBeVisible();
    await page.evaluate(async () => {
      const app = (window as any).jupyterapp;
      await app.commands.execute('notebook:run-all-cells');
    });
    const outputs = notebook.locator('.jp-OutputArea-output');
    await expect(outputs.filter({ hasText: 'xss notebook done' })).toHaveCount(1, { timeout: 150_000 });
    // the widgets are drawn (the verification queue's report is the last HTML): first, nothing fired
    const widgetHtml = notebook.locator('.widget-html');
    await expect(widgetHtml.filter({ hasText: 'Merkle root' }).first()).toBeAttached({ timeout: 60_000 });
    await expectNothingFired(page, notebook, dialogs);
    // the reprs show the payloads as text: the model card, the report (labels), the challenges (row values)...
    await expect(outputs.filter({ hasText: NAME }).first()).toBeVisible();
    await expect(outputs.filter({ hasText: IMG }).nth(3)).toBeAttached();
    // ...and so do the widgets: the market browser's table and card, the verification queue's report
    await expect(widgetHtml.filter({ hasText: NAME }).first()).toBeAttached();
    await expect(widgetHtml.filter({ hasText: IMG }).nth(2)).toBeAttached();
    await expectNothingFired(page, page.locator('body'), dialogs);
    await screenshot(page, 'xss-notebook');
  } catch (error) {
    await screenshot(page, 'xss-notebook-failure');
    throw error;
  }
});
