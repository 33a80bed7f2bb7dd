import * as React from 'react';

import { ColearnModel, readOnlyWhy, SectionId, serverAccountText, statusText } from '../model';
import { AccountPanel } from './AccountPanel';
import { ErrorBoundary } from './ErrorBoundary';
import { ErrorLine } from './Feedback';
import { Marketplace } from './Marketplace';
import { useModel } from './useModel';
import { VerificationQueue } from './VerificationQueue';

const SECTIONS: [SectionId, string][] = [
  ['market', 'Marketplace'],
  ['queue', 'Verify'],
  ['account', 'Account']
];

export interface ISidebarProps {
  model: ColearnModel;
  onContribute: (modelId: number) => void;
}

/** The colearn sidebar: a header with the status and a refresh button, then three tabs. */
export function Sidebar(props: ISidebarProps): JSX.Element {
  const model = useModel(props.model);
  const section = model.section;
  const pending = model.status?.pending_verifications ?? 0;
  const busy =
    model.market.loading || model.queue.loading || model.queue.detailLoading || model.account.loading;
  const why = readOnlyWhy(model.status);
  const who = serverAccountText(model.status);
  // the chain cannot be reached: the event stream's words, and /status's (once when they are the same)
  const statusProblem = model.statusError || model.status?.error || '';
  const streamProblem = model.streamError && model.streamError !== statusProblem ? model.streamError : '';
  return (
    <div className="jp-colearn-sidebar" data-testid="colearn-panel">
      <div className="jp-colearn-header">
        <span className="jp-colearn-title">colearn</span>
        <span
          className={`jp-colearn-live${model.live ? ' jp-mod-live' : ''}`}
          data-testid="colearn-live"
          title={
            model.live
              ? 'Live: updates as blocks arrive'
              : model.streamError
                ? `Not receiving live updates: ${model.streamError}`
                : 'Not receiving live updates'
          }
        >
          {model.live ? '● live' : '○ offline'}
        </span>
        <button
          className={`jp-colearn-button jp-colearn-refresh${busy ? ' jp-mod-busy' : ''}`}
          data-testid="colearn-refresh"
          title={busy ? 'Loading… (click to ask again)' : 'Refresh'}
          aria-label="Refresh"
          aria-busy={busy}
          onClick={() => void model.refreshAll()}
        >
          ⟳
        </button>
      </div>
      {who && (
        <div
          className={`jp-colearn-who${why ? ' jp-mod-read-only' : ''}`}
          data-testid="colearn-server-account"
          title={why ? why : `This server acts as ${model.status?.account.name} (${model.status?.account.address})`}
        >
          acts as {who}
        </div>
      )}
      <div className="jp-colearn-status" data-testid="colearn-sidebar-status">
        {statusText(model.status, model.statusError)}
      </div>
      {why && (
        <div className="jp-colearn-banner" role="alert" data-testid="colearn-read-only">
          <strong>Read-only.</strong> {why}
        </div>
      )}
      <ErrorLine error={statusProblem} testid="colearn-error-status" />
      <ErrorLine
        error={streamProblem ? `Live updates stopped: ${streamProblem}` : ''}
        testid="colearn-error-events"
      />
      <div className="jp-colearn-tabs" role="tablist">
        {SECTIONS.map(([id, label]) => (
          <button
            key={id}
            role="tab"
            aria-selected={section === id}
            className={`jp-colearn-tab${section === id ? ' jp-mod-current' : ''}`}
            data-testid={`colearn-tab-${id}`}
            onClick={() => model.setSection(id)}
          >
            {label}
            {id === 'queue' && pending > 0 ? ` (${pending})` : ''}
          </button>
        ))}
      </div>
      <div className="jp-colearn-body" role="tabpanel">
        <ErrorBoundary key={section} testid="colearn-error-render">
          {section === 'market' && (
            <Marketplace model={model} onContribute={props.onContribute} />
          )}
          {section === 'queue' && <VerificationQueue model={model} />}
          {section === 'account' && <AccountPanel model={model} />}
        </ErrorBoundary>
      </div>
    </div>
  );
}

/** The status bar text: `colearn: devnet · owner · 2 to verify`. */
export function StatusItem(props: { model: ColearnModel; onClick?: () => void }): JSX.Element {
  const model = useModel(props.model);
  return (
    <span
      className="jp-colearn-statusbar"
      data-testid="colearn-statusbar"
      title={
        model.statusError ||
        model.status?.error ||
        (model.streamError ? `Live updates stopped: ${model.streamError}` : '') ||
        readOnlyWhy(model.status) ||
        'colearn marketplace'
      }
      onClick={props.onClick}
    >
      {statusText(model.status, model.statusError)}
    </span>
  );
}
