/**
 * The sidebar on a chain that is not the devnet (a hardhat node, chain id 1337), run by run-hardhat.sh:
 *
 * - a server configured with no account is read-only: a banner says what to configure, and every action is
 *   disabled with that reason as its title;
 * - a server configured with the keystore account "ada" (c.ColearnSettings.account) shows it in the header, and
 *   runs the whole cycle from the sidebar: bea (a keystore named in the contribute dialog) contributes a file, the
 *   submission is verified, cy (named in the challenger field, with a visible note) challenges the mislabelled row,
 *   ada resolves it, ada moves the node's clock past the window from the sidebar (Advance clock, in the Account
 *   tab), bea claims, ada retrains.
 *
 * Environment (run-hardhat.sh): COLEARN_UI_URL (acting as ada), COLEARN_UI_READONLY_URL, COLEARN_UI_TOKEN,
 * COLEARN_UI_HARDHAT_MODEL_ID, COLEARN_UI_HARDHAT_MODEL_NAME, COLEARN_UI_HARDHAT_CSV, COLEARN_UI_HARDHAT_FLIPPED,
 * COLEARN_UI_HARDHAT_ROWS.
 */
import { expect, Locator, Page } from '@playwright/test';

import { openLab, openSidebar, openVerification, pageTest as test, setTheme, shoot } from './support';

const MODEL_ID = Number(process.env.COLEARN_UI_HARDHAT_MODEL_ID || '0');
const MODEL_NAME = process.env.COLEARN_UI_HARDHAT_MODEL_NAME || '';
const CSV = process.env.COLEARN_UI_HARDHAT_CSV || 'hardhat_rows.csv';
const FLIPPED = Number(process.env.COLEARN_UI_HARDHAT_FLIPPED || '0');
const ROWS = Number(process.env.COLEARN_UI_HARDHAT_ROWS || '0');
const READONLY_URL = process.env.COLEARN_UI_READONLY_URL || '';

/** Fill and accept JupyterLab's input dialog, after checking its title. */
async function answerDialog(page: Page, title: string, value: string): Promise<void> {
  const dialog = page.locator('.jp-Dialog', { has: page.locator('.jp-Dialog-header', { hasText: title }) });
  await expect(dialog).toHaveCount(1);
  await dialog.locator('input').fill(value);
  await dialog.locator('.jp-Dialog-button.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0); // the next dialog may follow at once
}

async function expectDisabledWithWhy(button: Locator): Promise<void> {
  await expect(button).toBeDisabled();
  await expect(button).toHaveAttribute('title', /acts as no account/);
}

test('a server without an account is read-only: a banner with why, every action disabled', async ({ page }) => {
  expect(READONLY_URL, 'COLEARN_UI_READONLY_URL (from run-hardhat.sh)').not.toBe('');
  await openLab(page, READONLY_URL);
  const panel = await openSidebar(page);
  try {
    await expect(panel.getByTestId('colearn-server-account')).toHaveText('acts as no account (read-only)');
    const banner = panel.getByTestId('colearn-read-only');
    await expect(banner).toContainText('acts as no account on chain 1337');
    await expect(banner).toContainText('keystore');
    await expect(panel.getByTestId('colearn-sidebar-status')).toHaveText(/colearn: chain 1337 · read-only · \d+ to verify/);
    await panel.getByTestId(`colearn-model-${MODEL_ID}`).click();
    const card = panel.getByTestId('colearn-model-card');
    await expect(card).toContainText(MODEL_NAME);
    await expectDisabledWithWhy(card.getByTestId('colearn-contribute'));
    await expectDisabledWithWhy(card.getByTestId('colearn-retrain'));
    await shoot(page, 'read-only');
    await setTheme(page, 'JupyterLab Dark');
    await shoot(page, 'read-only-dark');
    await setTheme(page, 'JupyterLab Light');
    await panel.getByTestId('colearn-tab-account').click();
    await expect(panel.getByTestId('colearn-account-name')).toHaveValue('');
    await expect(panel.getByTestId('colearn-account-none')).toBeVisible();
    await expectDisabledWithWhy(panel.getByTestId('colearn-claim'));
    // naming a keystore of the home is the explicit choice that lifts it, and says so
    await panel.getByTestId('colearn-account-name').fill('bea');
    await panel.getByTestId('colearn-account-show').click();
    await expect(panel.getByTestId('colearn-balance')).toHaveText(/ETH$/);
    await expect(panel.getByTestId('colearn-claim')).toBeEnabled();
    await expect(panel.getByTestId('colearn-acting-claim')).toHaveText('acting as bea; this server acts as no account');
    await shoot(page, 'read-only-account');
  } catch (error) {
    await shoot(page, 'read-only-failure', 'page');
    throw error;
  }
});

test('as the keystore account ada on chain 1337: contribute, verify, challenge, resolve, claim, retrain', async ({
  page
}) => {
  expect(MODEL_NAME, 'COLEARN_UI_HARDHAT_MODEL_NAME (from setup_hardhat.py)').not.toBe('');
  await openLab(page);
  const panel = await openSidebar(page);
  let submission = 0;
  try {
    await test.step('the sidebar says who acts: ada, on chain 1337', async () => {
      await expect(panel.getByTestId('colearn-server-account')).toHaveText(/^acts as ada · 0x/);
      await expect(panel.getByTestId('colearn-sidebar-status')).toHaveText(/colearn: chain 1337 · ada · \d+ to verify/);
      await expect(panel.getByTestId('colearn-read-only')).toHaveCount(0);
      await expect(panel.getByTestId(`colearn-model-${MODEL_ID}`)).toContainText(MODEL_NAME);
    });

    await test.step('bea contributes a file (a keystore named in the dialog)', async () => {
      await panel.getByTestId(`colearn-model-${MODEL_ID}`).click();
      const card = panel.getByTestId('colearn-model-card');
      await expect(card.getByTestId('colearn-contribute')).toBeEnabled();
      await card.getByTestId('colearn-contribute').click();
      await answerDialog(page, `Contribute a file to model #${MODEL_ID}`, CSV);
      await expect(page.locator('.jp-Dialog input')).toHaveValue('ada'); // the server's account, until changed
      await answerDialog(page, 'Contribute as which account?', 'bea');
      const message = panel.getByTestId('colearn-message-contribute');
      await expect(message).toContainText(`${ROWS} rows contributed to model #${MODEL_ID}`, { timeout: 60_000 });
      submission = Number(/Submission #(\d+)/.exec((await message.textContent()) || '')?.[1]);
      expect(submission).toBeGreaterThan(0);
    });

    await test.step('the submission is verified: the detail opens with its rows', async () => {
      const detail = await openVerification(panel, submission, 60_000);
      await expect(detail.getByTestId('colearn-verdicts').locator('tbody tr')).toHaveCount(ROWS);
      await expect(detail.getByTestId(`colearn-kind-${FLIPPED}`)).toHaveText('label');
      await expect(detail.getByTestId(`colearn-row-${FLIPPED}`)).toBeChecked();
    });

    await test.step('cy challenges the mislabelled row, named in the challenger field (a visible note)', async () => {
      const detail = panel.getByTestId('colearn-contribution-detail');
      // the server's own account owns the model, and an owner may not challenge: the field names cy
      await expect(detail.getByTestId('colearn-verifier')).toHaveValue('');
      await detail.getByTestId('colearn-verifier').fill('cy');
      await expect(detail.getByTestId('colearn-acting-challenge')).toHaveText(
        "acting as cy, not this server's account ada"
      );
      await shoot(page, 'hardhat-verification');
      await detail.getByTestId('colearn-challenge-selected').click();
      await expect(panel.getByTestId('colearn-error-action')).toHaveCount(0);
      await expect(panel.getByTestId('colearn-message-queue')).toContainText('Opened challenge', { timeout: 60_000 });
    });

    await test.step('ada, the owner, upholds it', async () => {
      await expect(panel.getByTestId('colearn-resolver')).toHaveValue('ada');
      await expect(panel.getByTestId('colearn-acting-resolve')).toHaveCount(0);
      const item = panel.getByTestId('colearn-challenge-list').locator('li', {
        hasText: `row ${FLIPPED} of submission #${submission}`
      });
      await item.getByRole('button', { name: 'Uphold' }).click();
      await expect(panel.getByTestId('colearn-message-queue')).toContainText('upheld', { timeout: 60_000 });
      await expect(item).toHaveCount(0);
    });

    await test.step('ada moves the clock past the window from the sidebar (Advance clock)', async () => {
      await panel.getByTestId('colearn-tab-account').click();
      await expect(panel.getByTestId('colearn-account-name')).toHaveValue('ada');
      const clock = panel.getByTestId('colearn-clock');
      await expect(clock.getByTestId('colearn-clock-why')).toContainText('Moves the clock for everyone on this chain');
      await expect(clock.getByTestId('colearn-clock-why')).toContainText('only the instructor may');
      // bea's window closes an hour after her contribution: once the clock has moved, the queue says it has closed
      await clock.getByTestId('colearn-clock-duration').fill('61m');
      await clock.getByTestId('colearn-clock-advance').click();
      await expect(clock.getByTestId('colearn-message-clock')).toHaveText(/^Chain time is now .* UTC \(\+1h 1m\)$/, {
        timeout: 60_000
      });
      await expect(clock.getByTestId('colearn-error-clock')).toHaveCount(0);
      await shoot(page, 'hardhat-clock');
      await setTheme(page, 'JupyterLab Dark');
      await shoot(page, 'hardhat-clock-dark');
      await setTheme(page, 'JupyterLab Light');
      await panel.getByTestId('colearn-tab-queue').click();
      await expect(panel.getByTestId(`colearn-contribution-${submission}`)).toContainText('window closed');
    });

    await test.step('bea claims', async () => {
      await panel.getByTestId('colearn-tab-account').click();
      await panel.getByTestId('colearn-account-name').fill('bea');
      await panel.getByTestId('colearn-account-show').click();
      await expect(panel.getByTestId('colearn-acting-claim')).toHaveText("acting as bea, not this server's account ada");
      await panel.getByTestId('colearn-claim').click();
      await expect(panel.getByTestId('colearn-error-claim')).toHaveCount(0);
      await expect(panel.getByTestId('colearn-message-claim')).toContainText('Withdrew', { timeout: 60_000 });
      await expect(panel.getByTestId('colearn-locked')).toHaveText('0 ETH');
      await shoot(page, 'hardhat-account');
    });

    await test.step('ada retrains the model: version 2', async () => {
      await panel.getByTestId('colearn-account-name').fill('ada');
      await panel.getByTestId('colearn-account-show').click();
      await expect(panel.getByTestId('colearn-acting-claim')).toHaveCount(0);
      await panel.getByTestId('colearn-tab-market').click();
      const card = panel.getByTestId('colearn-model-card');
      await card.getByTestId('colearn-retrain').click();
      await expect(card.getByTestId('colearn-message-contribute')).toContainText(
        `Published version 2 of model #${MODEL_ID}`,
        { timeout: 60_000 }
      );
      await expect(card.getByTestId('colearn-accuracy-chart').locator('circle')).toHaveCount(2);
      await expect(card.getByTestId('colearn-model-rows')).toContainText('1 rejected');
      await shoot(page, 'hardhat-marketplace');
    });
  } catch (error) {
    await shoot(page, 'hardhat-failure', 'page');
    throw error;
  }
});
