import { InputDialog } from '@jupyterlab/apputils';

import { ColearnModel, isAccountName } from './model';

/**
 * Ask which model (when none is open), which file and which account, then `model.contribute`.
 * Resolves to whether a submission was made.
 */
export async function contributeFile(
  model: ColearnModel,
  modelId: number | null
): Promise<boolean> {
  if (modelId === null) {
    const choices = model.visibleModels.map(m => `#${m.id} ${m.name}`);
    if (choices.length > 0) {
      const picked = await InputDialog.getItem({
        title: 'Contribute to which model?',
        items: choices
      });
      if (!picked.button.accept || !picked.value) {
        return false;
      }
      modelId = parseInt(picked.value.slice(1), 10);
    } else {
      const typed = await InputDialog.getNumber({
        title: 'Contribute to which model? (id)',
        value: 1
      });
      if (!typed.button.accept || typed.value === null || !(typed.value >= 1)) {
        return false;
      }
      modelId = Math.floor(typed.value);
    }
  }
  const path = await InputDialog.getText({
    title: `Contribute a file to model #${modelId}`,
    label: 'CSV or Parquet file, relative to the Jupyter root directory',
    placeholder: 'data/new_rows.csv',
    okLabel: 'Next'
  });
  if (!path.button.accept || !path.value || !path.value.trim()) {
    return false;
  }
  const fallback = model.account.name.trim() || model.defaultAccount;
  const server = model.status?.account;
  const whose = model.readOnly
    ? 'this server acts as no account: name a keystore kept in the colearn home'
    : server?.name
      ? `empty: this server's account, ${server.name}`
      : '';
  let account: string | null = null;
  for (;;) {
    const asked = await InputDialog.getText({
      title: 'Contribute as which account?',
      label: `Account (pays the deposit, receives the reward)${whose ? `; ${whose}` : ''}`,
      text: account ?? fallback,
      okLabel: 'Contribute'
    });
    if (!asked.button.accept) {
      return false;
    }
    account = (asked.value ?? '').trim();
    if (!account || isAccountName(account)) {
      break;
    }
  }
  const created = await model.contribute(modelId, path.value, account || undefined);
  return created !== null;
}
