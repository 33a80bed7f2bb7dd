import * as React from 'react';

import {
  canAnswer,
  canExpire,
  ColearnModel,
  describeRow,
  formatTimeLeft,
  ownerJudges,
  plannedKinds,
  shorten,
  verdictSummary
} from '../model';
import { IChallenge, IContributionDetail, IRowVerdict, WHOLE_FILE } from '../tokens';
import { AccountField, ActingNote, DetailCard, detailProps, ListItem, ListStatus } from './common';
import { ErrorLine, MessageLine } from './Feedback';

/** Rows shown at most in a report (the flagged ones first). */
export const MAX_ROWS_SHOWN = 500;

/** A row the plan flags: suspicious (the owner judges) or bad (the contract judges). */
function flagged(row: IRowVerdict): boolean {
  return row.verdict === 'suspicious' || row.verdict === 'bad';
}

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
              (c.rows_rejected > 0 ? ` · ${c.rows_rejected} rejected` : '') +
              (c.forfeited ? ' · forfeited' : '')
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
          verifierPlaceholder={model.readOnly ? model.account.name.trim() : model.defaultAccount}
          blocked={model.blockedReason('challenge')}
          actingNote={model.actingNote('challenge')}
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
        resolverPlaceholder={model.readOnly ? model.account.name.trim() : model.defaultAccount}
        blocked={model.blockedReason('resolve')}
        actingNote={model.actingNote('resolve')}
        busy={state.busy}
        now={now}
        onSelect={id => model.selectChallenge(id)}
        onResolver={r => model.setResolver(r)}
        onResolve={(id, verdict) => void model.resolve(id, verdict)}
        onAnswer={id => void model.answer(id)}
        onExpire={id => void model.expire(id)}
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
  /** shown in the empty challenger field: who acts then */
  verifierPlaceholder?: string;
  /** why the challenge cannot be made (read-only, no account named), or `''` */
  blocked?: string;
  /** `acting as verifier, not this server's account owner`, or `''` */
  actingNote?: string;
  busy: boolean;
  onToggleRow: (row: number, on: boolean) => void;
  onSelectSuggested: () => void;
  onClearSelection: () => void;
  onVerifier: (verifier: string) => void;
  onChallenge: () => void;
}

/**
 * The verification report of one submission: the checks, every row's verdict, fault (and what it copies) and the
 * kind of challenge the plan makes of it, with a checkbox per row to challenge. A file that cannot be used has no
 * rows to show: its plan challenges the whole file (the owner judges it) or, once that is over, demands one row
 * (availability), offered with its own checkbox.
 */
export function ContributionReport(props: IContributionReportProps): JSX.Element {
  const { detail } = props;
  const [flaggedOnly, setFlaggedOnly] = React.useState(false);
  const selected = new Set(props.selectedRows);
  const summary = detail ? verdictSummary(detail.report) : null;
  const plan = detail ? plannedKinds(detail.report) : new Map();
  let rows: IRowVerdict[] = detail ? detail.report.rows : [];
  const shown = new Set(rows.map(r => r.row));
  // planned rows the report has no line for (a file that cannot be read): the file or a demand, with a checkbox
  const demands = detail
    ? (detail.report.plan ?? [])
        .map(p => ({ row: p.row ?? WHOLE_FILE, kind: p.kind }))
        .filter(p => !shown.has(p.row))
    : [];
  if (flaggedOnly) {
    rows = rows.filter(r => flagged(r) || plan.has(r.row));
  }
  // flagged rows first, then by row number
  rows = [...rows].sort((a, b) => Number(flagged(b)) - Number(flagged(a)) || a.row - b.row);
  const hidden = Math.max(0, rows.length - MAX_ROWS_SHOWN);
  rows = rows.slice(0, MAX_ROWS_SHOWN);
  const checkbox = (row: number, challenged: boolean) => (
    <input
      type="checkbox"
      aria-label={`Challenge ${describeRow(row)}`}
      data-testid={`colearn-row-${row}`}
      checked={selected.has(row)}
      disabled={challenged}
      onChange={e => props.onToggleRow(row, e.target.checked)}
    />
  );
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
                checked={flaggedOnly}
                onChange={e => setFlaggedOnly(e.target.checked)}
              />
              flagged only
            </label>
            <button className="jp-colearn-link" onClick={props.onSelectSuggested}>
              select planned
            </button>
            <button className="jp-colearn-link" onClick={props.onClearSelection}>
              clear
            </button>
          </div>
          {demands.length > 0 && (
            <ul className="jp-colearn-list" data-testid="colearn-demands" aria-label="Rows to demand">
              {demands.map(d => (
                <li key={d.row} data-testid={`colearn-demand-${d.row}`}>
                  <label className="jp-colearn-checkbox">
                    {checkbox(d.row, props.challenged.has(d.row))}
                    {props.challenged.has(d.row)
                      ? `${describeRow(d.row)}: challenged (challenge #${props.challenged.get(d.row)})`
                      : d.row === WHOLE_FILE
                        ? `challenge the whole file (${d.kind}): the owner judges it; upheld, the batch is rejected`
                        : `demand row ${d.row} (${d.kind}): whoever holds the file must produce it`}
                  </label>
                </li>
              ))}
            </ul>
          )}
          {detail.report.rows.length > 0 && (
            <div className="jp-colearn-table-wrap">
              <table className="jp-colearn-table" data-testid="colearn-verdicts">
                <thead>
                  <tr>
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
                    const kind = plan.get(r.row) ?? r.challenge;
                    return (
                      <tr
                        key={r.row}
                        className={
                          flagged(r) ? `jp-colearn-suspicious${r.verdict === 'bad' ? ' jp-colearn-bad' : ''}` : undefined
                        }
                        data-testid={`colearn-verdict-row-${r.row}`}
                      >
                        <td className="jp-colearn-cell-row">
                          <label>
                            {checkbox(r.row, challenged)}
                            {r.row}
                          </label>
                        </td>
                        <td>{show(r.label)}</td>
                        <td>{show(r.predicted)}</td>
                        <td>
                          {challenged ? `challenged #${challengeId}` : r.verdict}
                          <span className="jp-colearn-cell-kind" data-testid={`colearn-kind-${r.row}`}>
                            {kind ?? ''}
                          </span>
                          <span className="jp-colearn-cell-fault" data-testid={`colearn-fault-${r.row}`}>
                            {r.fault ? `${r.fault}${r.copy_of ? ` of ${r.copy_of}` : ''}` : ''}
                          </span>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          {hidden > 0 && <div className="jp-colearn-note">{hidden} more rows not shown.</div>}
          <div className="jp-colearn-actions">
            <AccountField
              label="as"
              ariaLabel="Challenger account"
              testid="colearn-verifier"
              value={props.verifier}
              placeholder={props.verifierPlaceholder}
              onChange={props.onVerifier}
            />
            <button
              className="jp-colearn-button jp-mod-warn"
              data-testid="colearn-challenge-selected"
              title={
                props.blocked ||
                'Challenge each selected row with the kind the plan says (a label or a demand posts the bond)'
              }
              disabled={props.busy || props.selectedRows.length === 0 || !!props.blocked}
              onClick={props.onChallenge}
            >
              Challenge selected ({props.selectedRows.length})
            </button>
          </div>
          <ActingNote note={props.actingNote ?? ''} testid="colearn-acting-challenge" />
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
  resolverPlaceholder?: string;
  /** why the challenges cannot be resolved, answered or expired (read-only, no account named), or `''` */
  blocked?: string;
  actingNote?: string;
  busy: boolean;
  now: number;
  onSelect: (id: number | null) => void;
  onResolver: (resolver: string) => void;
  onResolve: (id: number, verdict: 'uphold' | 'reject' | 'auto') => void;
  onAnswer: (id: number) => void;
  onExpire: (id: number) => void;
}

/**
 * The pending challenges with their kind. A label challenge gets Uphold / Reject / Auto (the owner judges it),
 * an availability challenge gets Answer (anyone holding the file produces the row and takes the bond), and a
 * challenge past its time-out gets Expire.
 */
export function ChallengeList(props: IChallengeListProps): JSX.Element {
  const button = (
    c: IChallenge,
    action: string,
    label: string,
    onClick: () => void,
    warn = false
  ) => (
    <button
      key={action}
      className={`jp-colearn-button${warn ? ' jp-mod-warn' : ''}`}
      data-testid={`colearn-${action}-${c.id}`}
      disabled={props.busy || !!props.blocked}
      title={props.blocked || undefined}
      onClick={e => {
        e.stopPropagation();
        onClick();
      }}
    >
      {label}
    </button>
  );
  return (
    <div className="jp-colearn-challenges" data-testid="colearn-challenges">
      <div className="jp-colearn-subtitle">Pending challenges</div>
      <div className="jp-colearn-controls">
        <AccountField
          label="act as"
          ariaLabel="Account that resolves (the model's owner), answers or expires challenges"
          testid="colearn-resolver"
          value={props.resolver}
          placeholder={props.resolverPlaceholder}
          onChange={props.onResolver}
        />
      </div>
      <ActingNote note={props.actingNote ?? ''} testid="colearn-acting-resolve" />
      <ErrorLine error={props.error} testid="colearn-error-challenges" />
      {props.challenges.length === 0 && !props.error && !props.loading && (
        <div className="jp-colearn-empty" data-testid="colearn-no-challenges">
          No pending challenge.
        </div>
      )}
      <ul className="jp-colearn-list" data-testid="colearn-challenge-list" aria-label="Pending challenges">
        {props.challenges.map(c => {
          const overdue = c.resolve_by < props.now;
          const judged = ownerJudges(c) && !overdue;
          return (
            <li
              key={c.id}
              className={`jp-colearn-challenge${c.id === props.selectedId ? ' jp-mod-selected' : ''}`}
              data-testid={`colearn-challenge-${c.id}`}
              onClick={() => props.onSelect(c.id === props.selectedId ? null : c.id)}
            >
              <span className="jp-colearn-item-title">
                #{c.id} <span data-testid={`colearn-challenge-kind-${c.id}`}>{c.kind}</span>:{' '}
                {describeRow(c.row)} of submission #{c.submission} (model #{c.model})
              </span>
              <span className="jp-colearn-item-meta">
                by {shorten(c.challenger)} · {c.status} ·{' '}
                {overdue ? 'time-out passed' : formatTimeLeft(c.resolve_by, props.now)}
              </span>
              <span className="jp-colearn-actions">
                {judged &&
                  (['uphold', 'reject', 'auto'] as const).map(verdict =>
                    button(
                      c,
                      `resolve-${verdict}`,
                      verdict === 'uphold' ? 'Uphold' : verdict === 'reject' ? 'Reject' : 'Auto',
                      () => props.onResolve(c.id, verdict),
                      verdict === 'uphold'
                    )
                  )}
                {canAnswer(c, props.now) && button(c, 'answer', 'Answer', () => props.onAnswer(c.id))}
                {canExpire(c, props.now) && button(c, 'expire', 'Expire', () => props.onExpire(c.id), true)}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
