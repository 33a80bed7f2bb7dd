import * as React from 'react';

import { ColearnModel, formatWei, shorten } from '../model';
import { ClockControl } from './Clock';
import { ActingNote } from './common';
import { ErrorLine, Loading, MessageLine } from './Feedback';

export interface IAccountPanelProps {
  model: ColearnModel;
}

/** An account's balance, locked deposits and claimable rewards, with Claim. */
export function AccountPanel(props: IAccountPanelProps): JSX.Element {
  const { model } = props;
  const state = model.account;
  const info = state.info;
  const blocked = model.blockedReason('account');
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
          placeholder={model.readOnly ? 'a keystore name' : model.defaultAccount || 'account'}
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
      {model.readOnly && !state.name.trim() && (
        <div className="jp-colearn-note" data-testid="colearn-account-none">
          This server acts as no account. Name one (a keystore in the colearn home) to see its balance and act as it.
        </div>
      )}
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
          disabled={state.busy || !!blocked}
          title={blocked || 'Claim the settled submissions of the account and withdraw'}
          onClick={() => void model.claim()}
        >
          Claim
        </button>
      </div>
      <ActingNote note={model.actingNote('account')} testid="colearn-acting-claim" />
      <ErrorLine error={state.actionError} testid="colearn-error-claim" />
      <MessageLine message={state.message} testid="colearn-message-claim" />
      <ClockControl model={model} />
    </div>
  );
}
