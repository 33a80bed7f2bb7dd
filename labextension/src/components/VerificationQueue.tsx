import * as React from 'react';

import {
  ColearnModel,
  formatTimeLeft,
  shorten,
  verdictSummary
} from '../model';
import { IChallenge, IContributionDetail, IRowVerdict } from '../tokens';
import { AccountField, DetailCard, detailProps, ListItem, ListStatus } from './common';
import { ErrorLine, MessageLine } from './Feedback';

/** Rows shown at most in a report (the suspicious ones first). */
export const MAX_ROWS_SHOWN = 500;

function show(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface IVerificationQueueProps {
  model: ColearnModel;
}

/** The pending submissions, the open one's per-row verdicts, and the pending challenges. */
export function VerificationQueue(props: IVerificationQueueProps): JSX.Element {
  const { model } = props;
  const state = model.queue;
  const now = model.now();
  return (
    <div className="jp-colearn-section" data-testid="colearn-queue">
      <div className="jp-colearn-subtitle">Pending submissions</div>
      <ListStatus
        name="queue"
        error={state.error}
        loading={state.loading}
        loaded={state.loaded}
        empty={state.contributions.length === 0}
        emptyTestid="colearn-no-contributions"
      >
        Nothing to verify.
      </ListStatus>
      <ul className="jp-colearn-list" data-testid="colearn-contribution-list" aria-label="Pending submissions">
        {state.contributions.map(c => (
          <ListItem
            key={c.id}
            testid={`colearn-contribution-${c.id}`}
            selected={c.id === state.selectedId}
            onClick={() => void model.selectContribution(c.id === state.selectedId ? null : c.id)}
            title={`Submission #${c.id} · model #${c.model}`}
            meta={
              `${c.rows} rows by ${shorten(c.contributor)} · ${formatTimeLeft(c.window_ends_at, now)}` +
              (c.open_challenges > 0 ? ` · ${c.open_challenges} challenged` : '') +
              (c.rows_rejected > 0 ? ` · ${c.rows_rejected} rejected` : '')
            }
          />
        ))}
      </ul>
      {state.selectedId !== null && (
        <ContributionReport
          {...detailProps(state)}
          selectedRows={state.selectedRows}
          challenged={model.challengedRows}
          verifier={state.verifier}
          busy={state.busy}
          onToggleRow={(row, on) => model.toggleRow(row, on)}
          onSelectSuggested={() => model.selectSuggestedRows()}
          onClearSelection={() => model.setSelectedRows([])}
          onVerifier={v => model.setVerifier(v)}
          onChallenge={() => void model.challenge()}
        />
      )}
      <ErrorLine error={state.actionError} testid="colearn-error-action" />
      <MessageLine message={state.message} testid="colearn-message-queue" />
      <ChallengeList
        challenges={state.challenges}
        loading={state.challengesLoading}
        error={state.challengesError}
        selectedId={state.selectedChallengeId}
        resolver={state.resolver}
        busy={state.busy}
        now={now}
        onSelect={id => model.selectChallenge(id)}
        onResolver={r => model.setResolver(r)}
        onResolve={(id, verdict) => void model.resolve(id, verdict)}
      />
    </div>
  );
}

export interface IContributionReportProps {
  detail: IContributionDetail | null;
  loading: boolean;
  error: string;
  selectedRows: number[];
  /** row → challenge id */
  challenged: ReadonlyMap<number, number>;
  verifier: string;
  busy: boolean;
  onToggleRow: (row: number, on: boolean) => void;
  onSelectSuggested: () => void;
  onClearSelection: () => void;
  onVerifier: (verifier: string) => void;
  onChallenge: () => void;
}

/** The verification report of one submission, with a checkbox per row to challenge. */
export function ContributionReport(props: IContributionReportProps): JSX.Element {
  const { detail } = props;
  const [suspiciousOnly, setSuspiciousOnly] = React.useState(false);
  const selected = new Set(props.selectedRows);
  const summary = detail ? verdictSummary(detail.report) : null;
  let rows: IRowVerdict[] = detail ? detail.report.rows : [];
  if (suspiciousOnly) {
    rows = rows.filter(r => r.verdict === 'suspicious');
  }
  // suspicious rows first, then by row number
  rows = [...rows].sort(
    (a, b) =>
      Number(b.verdict === 'suspicious') - Number(a.verdict === 'suspicious') || a.row - b.row
  );
  const hidden = Math.max(0, rows.length - MAX_ROWS_SHOWN);
  rows = rows.slice(0, MAX_ROWS_SHOWN);
  return (
    <DetailCard
      testid="colearn-contribution-detail"
      name="contribution"
      title={detail ? `Submission #${detail.contribution.id}` : 'Submission'}
      error={props.error}
      loading={props.loading && !detail}
      loadingLabel="Verifying…"
    >
      {detail && summary && (
        <>
          <div
            className={`jp-colearn-checks${summary.intact ? '' : ' jp-colearn-error'}`}
            data-testid="colearn-integrity"
          >
            {summary.checks}
          </div>
          <div className="jp-colearn-summary" data-testid="colearn-verdict-summary">
            {summary.text}
          </div>
          <div className="jp-colearn-controls">
            <label className="jp-colearn-checkbox">
              <input
                type="checkbox"
                checked={suspiciousOnly}
                onChange={e => setSuspiciousOnly(e.target.checked)}
              />
              suspicious only
            </label>
            <button className="jp-colearn-link" onClick={props.onSelectSuggested}>
              select suggested
            </button>
            <button className="jp-colearn-link" onClick={props.onClearSelection}>
              clear
            </button>
          </div>
          <div className="jp-colearn-table-wrap">
            <table className="jp-colearn-table" data-testid="colearn-verdicts">
              <thead>
                <tr>
                  <th />
                  <th>row</th>
                  <th>label</th>
                  <th>predicted</th>
                  <th>verdict</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(r => {
                  const challengeId = props.challenged.get(r.row);
                  const challenged = challengeId !== undefined;
                  return (
                    <tr
                      key={r.row}
                      className={r.verdict === 'suspicious' ? 'jp-colearn-suspicious' : undefined}
                      data-testid={`colearn-verdict-row-${r.row}`}
                    >
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`Challenge row ${r.row}`}
                          data-testid={`colearn-row-${r.row}`}
                          checked={selected.has(r.row)}
                          disabled={challenged}
                          onChange={e => props.onToggleRow(r.row, e.target.checked)}
                        />
                      </td>
                      <td>{r.row}</td>
                      <td>{show(r.label)}</td>
                      <td>{show(r.predicted)}</td>
                      <td>{challenged ? `challenged #${challengeId}` : r.verdict}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {hidden > 0 && <div className="jp-colearn-note">{hidden} more rows not shown.</div>}
          <div className="jp-colearn-actions">
            <AccountField
              label="as"
              ariaLabel="Challenger account"
              testid="colearn-verifier"
              value={props.verifier}
              onChange={props.onVerifier}
            />
            <button
              className="jp-colearn-button jp-mod-warn"
              data-testid="colearn-challenge-selected"
              disabled={props.busy || props.selectedRows.length === 0}
              onClick={props.onChallenge}
            >
              Challenge selected ({props.selectedRows.length})
            </button>
          </div>
        </>
      )}
    </DetailCard>
  );
}

export interface IChallengeListProps {
  challenges: IChallenge[];
  loading: boolean;
  error: string;
  selectedId: number | null;
  resolver: string;
  busy: boolean;
  now: number;
  onSelect: (id: number | null) => void;
  onResolver: (resolver: string) => void;
  onResolve: (id: number, verdict: 'uphold' | 'reject' | 'auto') => void;
}

/** The owner's pending challenges with Uphold / Reject / Auto. */
export function ChallengeList(props: IChallengeListProps): JSX.Element {
  return (
    <div className="jp-colearn-challenges" data-testid="colearn-challenges">
      <div className="jp-colearn-subtitle">Pending challenges</div>
      <div className="jp-colearn-controls">
        <AccountField
          label="resolve as"
          ariaLabel="Resolving account (the model's owner)"
          testid="colearn-resolver"
          value={props.resolver}
          onChange={props.onResolver}
        />
      </div>
      <ErrorLine error={props.error} testid="colearn-error-challenges" />
      {props.challenges.length === 0 && !props.error && !props.loading && (
        <div className="jp-colearn-empty" data-testid="colearn-no-challenges">
          No pending challenge.
        </div>
      )}
      <ul className="jp-colearn-list" data-testid="colearn-challenge-list" aria-label="Pending challenges">
        {props.challenges.map(c => (
          <li
            key={c.id}
            className={`jp-colearn-challenge${c.id === props.selectedId ? ' jp-mod-selected' : ''}`}
            data-testid={`colearn-challenge-${c.id}`}
            onClick={() => props.onSelect(c.id === props.selectedId ? null : c.id)}
          >
            <span className="jp-colearn-item-title">
              #{c.id}: row {c.row} of submission #{c.submission} (model #{c.model})
            </span>
            <span className="jp-colearn-item-meta">
              by {shorten(c.challenger)} · {c.status} ·{' '}
              {c.resolve_by > props.now ? formatTimeLeft(c.resolve_by, props.now) : 'overdue'}
            </span>
            <span className="jp-colearn-actions">
              {(['uphold', 'reject', 'auto'] as const).map(verdict => (
                <button
                  key={verdict}
                  className={`jp-colearn-button${verdict === 'uphold' ? ' jp-mod-warn' : ''}`}
                  data-testid={`colearn-resolve-${verdict}-${c.id}`}
                  disabled={props.busy}
                  onClick={e => {
                    e.stopPropagation();
                    props.onResolve(c.id, verdict);
                  }}
                >
                  {verdict === 'uphold' ? 'Uphold' : verdict === 'reject' ? 'Reject' : 'Auto'}
                </button>
              ))}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
