import * as React from 'react';

import { ColearnModel, formatWei, shorten } from '../model';
import { ErrorLine, Loading, MessageLine } from './Feedback';

export interface IAccountPanelProps {
  model: ColearnModel;
}

/** An account's balance, locked deposits and claimable rewards, with Claim. */
export function AccountPanel(props: IAccountPanelProps): JSX.Element {
  const { model } = props;
  const state = model.account;
  const info = state.info;
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void model.refreshAccount();
  };
  return (
    <div className="jp-colearn-section" data-testid="colearn-account">
      <form className="jp-colearn-controls" onSubmit={submit}>
        <input
          className="jp-colearn-input"
          aria-label="Account"
          placeholder={model.defaultAccount || 'account'}
          data-testid="colearn-account-name"
          value={state.name}
          maxLength={64}
          onChange={e => model.setAccountName(e.target.value)}
          onBlur={() => void model.refreshAccount()}
        />
        <button className="jp-colearn-button" type="submit" data-testid="colearn-account-show">
          Show
        </button>
      </form>
      <ErrorLine error={state.error} testid="colearn-error-account" />
      <Loading loading={state.loading && !info} testid="colearn-loading-account" />
      {info && (
        <dl className="jp-colearn-facts">
          <dt>account</dt>
          <dd>{info.name}</dd>
          <dt>address</dt>
          <dd title={info.address}>{shorten(info.address)}</dd>
          <dt>balance</dt>
          <dd data-testid="colearn-balance">{formatWei(info.balance_wei)}</dd>
          <dt>locked deposits</dt>
          <dd data-testid="colearn-locked">{formatWei(info.locked_wei)}</dd>
          <dt>claimable</dt>
          <dd data-testid="colearn-claimable">{formatWei(info.claimable_wei)}</dd>
        </dl>
      )}
      <div className="jp-colearn-actions">
        <button
          className="jp-colearn-button jp-mod-accept"
          data-testid="colearn-claim"
          disabled={state.busy}
          onClick={() => void model.claim()}
        >
          Claim
        </button>
      </div>
      <ErrorLine error={state.actionError} testid="colearn-error-claim" />
      <MessageLine message={state.message} testid="colearn-message-claim" />
    </div>
  );
}
