/**
 * The state of the colearn panels and the pure logic behind them: formatting wei, sorting and filtering
 * models, verdict summaries, the accuracy chart's geometry. Buttons and commands both call the methods of
 * {@link ColearnModel}; the React components only render its state.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { eventsURL, requestAPI } from './request';
import {
  ChallengeKind,
  IAccountInfo,
  IAnswerResult,
  IAsAccount,
  IChallenge,
  IChallengeActionRequest,
  IChallengeCreated,
  IChallengeList,
  IChallengeRequest,
  IClaimResult,
  IContributeRequest,
  IContribution,
  IContributionDetail,
  IContributionList,
  IExpireResult,
  IModelDetail,
  IModelPage,
  IModelSummary,
  IResolveRequest,
  IResolveResult,
  IStatus,
  ITimeAdvanceRequest,
  ITimeAdvanceResult,
  IVerificationReport,
  IVersion,
  MARKET_EVENT_NAMES,
  MarketEvent,
  ModelSortKey,
  OWNER_JUDGED_KINDS,
  ResolveVerdict,
  WHOLE_FILE,
  SortOrder,
  Wei
} from './tokens';

// ------------------------------------------------------------------------------------------ pure helpers

export const WEI_PER_ETH = BigInt('1000000000000000000');

/** A wei amount (decimal string or bigint) as a bigint; throws on anything else. */
export function parseWei(wei: Wei | bigint): bigint {
  if (typeof wei === 'bigint') {
    return wei;
  }
  if (typeof wei !== 'string' || !/^[0-9]+$/.test(wei)) {
    throw new Error(`not a wei amount: ${String(wei)}`);
  }
  return BigInt(wei);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Format wei as ETH with BigInt arithmetic (no float rounding): at most `maxDecimals` decimals,
 * rounded half up, trailing zeros dropped, thousands grouped. `formatWei('10000000000000000')` is
 * `'0.01 ETH'`; a non-zero amount too small to show is `'< 0.000001 ETH'`; an invalid one is `'?'`.
 */
export function formatWei(wei: Wei | bigint, maxDecimals = 6): string {
  let value: bigint;
  try {
    value = parseWei(wei);
  } catch {
    return '?';
  }
  const decimals = Math.max(0, Math.min(18, Math.floor(maxDecimals)));
  const unit = BigInt(10) ** BigInt(18 - decimals);
  const scale = BigInt(10) ** BigInt(decimals);
  const rounded = (value + unit / BigInt(2)) / unit;
  if (rounded === BigInt(0) && value > BigInt(0)) {
    return decimals === 0
      ? '< 1 ETH'
      : `< 0.${'0'.repeat(decimals - 1)}1 ETH`;
  }
  const whole = groupThousands((rounded / scale).toString());
  const fraction =
    decimals === 0
      ? ''
      : (rounded % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction} ETH` : `${whole} ETH`;
}

/** Sum wei amounts exactly. */
export function addWei(...amounts: (Wei | bigint)[]): bigint {
  return amounts.reduce<bigint>(
    (total, amount) => total + parseWei(amount),
    BigInt(0)
  );
}

/** Seconds as a short duration: `3600` is `'1h'`, `5400` is `'1h 30m'`, `90061` is `'1d 1h 1m'`. */
export function formatDuration(seconds: number): string {
  let left = Math.max(0, Math.round(seconds));
  if (left === 0) {
    return '0s';
  }
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1]
  ] as [string, number][]) {
    const count = Math.floor(left / size);
    if (count > 0) {
      parts.push(`${count}${unit}`);
      left -= count * size;
    }
  }
  // seconds only matter for short durations
  return (parts.length > 1 ? parts.filter(p => !p.endsWith('s')) : parts)
    .slice(0, 3)
    .join(' ');
}

/** A chain timestamp (seconds) as `2024-05-01 12:00:00 UTC`. */
export function formatChainTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** How long until a chain timestamp (seconds), from `now` (seconds). */
export function formatTimeLeft(endsAt: number, now: number): string {
  return endsAt <= now ? 'window closed' : `${formatDuration(endsAt - now)} left`;
}

/** An accuracy in [0, 1] as a percentage with one decimal, or `'n/a'`. */
export function formatAccuracy(accuracy: number | null | undefined): string {
  return accuracy === null || accuracy === undefined || !isFinite(accuracy)
    ? 'n/a'
    : `${(accuracy * 100).toFixed(1)}%`;
}

/** Shorten a hex address or CID for display: `0x1234…abcd`. */
export function shorten(value: string, keep = 6): string {
  return value.length <= keep * 2 + 1
    ? value
    : `${value.slice(0, keep)}…${value.slice(-4)}`;
}

/**
 * Sort models like `GET /models?sort=&order=` does: by the key, ties by id; models without an
 * accuracy come last whatever the order.
 */
export function sortModels(
  models: readonly IModelSummary[],
  key: ModelSortKey,
  order: SortOrder
): IModelSummary[] {
  const sign = order === 'desc' ? -1 : 1;
  return [...models].sort((a, b) => {
    const va = a[key];
    const vb = b[key];
    if (va === null || va === undefined || vb === null || vb === undefined) {
      if (va === vb || (va ?? null) === (vb ?? null)) {
        return a.id - b.id;
      }
      return va === null || va === undefined ? 1 : -1;
    }
    let diff: number;
    if (typeof va === 'string' && typeof vb === 'string') {
      diff = va.localeCompare(vb, undefined, { sensitivity: 'base' });
    } else {
      diff = (va as number) - (vb as number);
    }
    return diff !== 0 ? sign * diff : a.id - b.id;
  });
}

/** The models whose name, owner or id contains `search` (case-insensitive). */
export function filterModels(
  models: readonly IModelSummary[],
  search: string
): IModelSummary[] {
  const needle = search.trim().toLowerCase();
  if (!needle) {
    return [...models];
  }
  return models.filter(
    m =>
      m.name.toLowerCase().includes(needle) ||
      m.owner.toLowerCase().includes(needle) ||
      String(m.id) === needle
  );
}

/** A query string from parameters, dropping undefined, null and empty values. */
export function buildQuery(
  params: Record<string, string | number | boolean | null | undefined>
): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(
      ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`
    );
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

export interface IVerdictSummary {
  rows: number;
  ok: number;
  /** the model disagrees with the label (the owner judges) */
  suspicious: number;
  /** an objective fault (the contract judges) */
  bad: number;
  /** rows the chain already rejected */
  rejected: number;
  /** the challenges the plan suggests */
  suggested: number;
  challenged: number;
  /** the plan's kinds with their counts, e.g. `2 label, 1 duplicate` */
  kinds: string;
  /** the file is there and matches its commitment (CID, row count and Merkle root) */
  intact: boolean;
  /** one line for the panel */
  text: string;
  /** the checks, e.g. `CID ✔ · row count ✔ · Merkle root ✔ · rows ✔` */
  checks: string;
}

/** `2 label, 1 duplicate`: how many of each kind, in order of first appearance. */
export function countKinds(kinds: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const kind of kinds) {
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ');
}

/** Count the verdicts of a verification report and say it in one line. */
export function verdictSummary(report: IVerificationReport): IVerdictSummary {
  const rows = report.rows.length;
  const count = (verdict: string) => report.rows.filter(r => r.verdict === verdict).length;
  const suspicious = count('suspicious');
  const bad = count('bad');
  const rejected = count('rejected');
  const challenged = report.rows.filter(
    r => (r.challenge_id !== null && r.challenge_id !== undefined) || r.verdict === 'challenged'
  ).length;
  const plan = report.plan ?? [];
  const kinds = countKinds(plan.map(p => p.kind));
  const intact = report.cid_ok && (report.count_ok ?? true) && report.root_ok;
  const checks = (
    [
      ['CID', report.cid_ok],
      ['row count', report.count_ok ?? true],
      ['Merkle root', report.root_ok],
      ['rows', report.schema_ok]
    ] as [string, boolean][]
  )
    .map(([name, good]) => `${name} ${good ? '✔' : '✘'}`)
    .join(' · ');
  const planned =
    `${plan.length} planned ${plan.length === 1 ? 'challenge' : 'challenges'}` + (kinds ? ` (${kinds})` : '');
  let text: string;
  if (!intact) {
    text = `Integrity check failed${report.problem ? `: ${report.problem}` : ''}; ${planned}`;
  } else {
    const counts = [
      `${count('ok')} ok`,
      `${suspicious} suspicious`,
      ...(bad > 0 ? [`${bad} bad`] : []),
      ...(rejected > 0 ? [`${rejected} rejected`] : [])
    ];
    text =
      `${rows} ${rows === 1 ? 'row' : 'rows'}: ${counts.join(', ')}, ${planned}` +
      (challenged > 0 ? `, ${challenged} already challenged` : '');
  }
  return {
    rows,
    ok: count('ok'),
    suspicious,
    bad,
    rejected,
    suggested: report.suggested.length,
    challenged,
    kinds,
    intact,
    text,
    checks
  };
}

/** The plan of a report, row → the kind of challenge to make. */
export function plannedKinds(report: IVerificationReport): Map<number, ChallengeKind> {
  return new Map((report.plan ?? []).map(p => [p.row ?? WHOLE_FILE, p.kind]));
}

/** What an owner's verdict did: a label's row, or a file's whole batch, is rejected or stands. */
export function verdictText(upheld: boolean, kind: ChallengeKind | undefined): string {
  const what = kind === 'file' ? 'the whole batch' : 'the row';
  return upheld ? `upheld: ${what} is rejected` : `rejected: ${what} stands`;
}

/** `row 3`, or `the file` for {@link WHOLE_FILE} (or the API's null row). */
export function describeRow(row: number | null): string {
  return row === null || row === WHOLE_FILE ? 'the file' : `row ${row}`;
}

/** Whether a pending challenge is judged by the model's owner (so may be upheld or rejected). */
export function ownerJudges(challenge: IChallenge): boolean {
  return OWNER_JUDGED_KINDS.includes(challenge.kind);
}

/** Whether anyone holding the file may answer the challenge (a pending availability challenge in time). */
export function canAnswer(challenge: IChallenge, now: number): boolean {
  return challenge.kind === 'availability' && challenge.status === 'pending' && challenge.resolve_by >= now;
}

/** Whether anyone may expire the challenge now (pending past its time-out). */
export function canExpire(challenge: IChallenge, now: number): boolean {
  return challenge.status === 'pending' && challenge.resolve_by < now;
}

/**
 * The challenged rows of a submission, row → challenge id: from the report's `challenge_id` fields and from
 * the pending challenges listed for that submission (the report may not say).
 */
export function challengedRows(
  submission: number,
  report: IVerificationReport,
  challenges: readonly IChallenge[] = []
): Map<number, number> {
  const rows = new Map<number, number>();
  for (const r of report.rows) {
    if (r.challenge_id !== null && r.challenge_id !== undefined) {
      rows.set(r.row, r.challenge_id);
    }
  }
  for (const c of challenges) {
    const row = c.row ?? WHOLE_FILE;
    if (c.submission === submission && !rows.has(row)) {
      rows.set(row, c.id);
    }
  }
  return rows;
}

/** The rows to pre-select in a report: the suggested ones that have no open challenge yet. */
export function initialRowSelection(
  report: IVerificationReport,
  challenged: ReadonlyMap<number, number> = challengedRows(-1, report)
): number[] {
  return report.suggested
    .map(row => row ?? WHOLE_FILE)
    .filter(row => !challenged.has(row))
    .sort((a, b) => a - b);
}

/** Keep a selection across a refresh of the same report: rows that still exist and are not challenged. */
export function keepRowSelection(
  selected: readonly number[],
  report: IVerificationReport,
  challenged: ReadonlyMap<number, number> = challengedRows(-1, report)
): number[] {
  const rows = new Set([...report.rows.map(r => r.row), ...plannedKinds(report).keys()]);
  return selected.filter(row => rows.has(row) && !challenged.has(row));
}

export interface IChartPoint {
  x: number;
  y: number;
  version: number;
  accuracy: number;
}

export interface IChartGeometry {
  points: IChartPoint[];
  /** an SVG path (`M x y L x y …`), empty without points */
  path: string;
  /** the accuracy at the bottom and at the top of the plot */
  yMin: number;
  yMax: number;
}

/**
 * Where to draw the accuracy history in a `width`×`height` SVG with `pad` pixels around the plot:
 * versions evenly spaced left to right, accuracy bottom (low) to top (high), the range widened to at
 * least 10 points and clamped to [0, 1].
 */
export function accuracyChart(
  versions: readonly IVersion[],
  width: number,
  height: number,
  pad = 8
): IChartGeometry {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  if (sorted.length === 0) {
    return { points: [], path: '', yMin: 0, yMax: 1 };
  }
  const values = sorted.map(v => v.accuracy);
  let yMin = Math.min(...values);
  let yMax = Math.max(...values);
  const minSpan = 0.1;
  if (yMax - yMin < minSpan) {
    const mid = (yMax + yMin) / 2;
    yMin = mid - minSpan / 2;
    yMax = mid + minSpan / 2;
  }
  if (yMin < 0) {
    yMax = Math.min(1, yMax - yMin);
    yMin = 0;
  }
  if (yMax > 1) {
    yMin = Math.max(0, yMin - (yMax - 1));
    yMax = 1;
  }
  const plotW = Math.max(1, width - 2 * pad);
  const plotH = Math.max(1, height - 2 * pad);
  const round = (n: number) => Math.round(n * 100) / 100;
  const points = sorted.map((v, i) => ({
    x: round(sorted.length === 1 ? pad + plotW / 2 : pad + (plotW * i) / (sorted.length - 1)),
    y: round(pad + plotH * (1 - (v.accuracy - yMin) / (yMax - yMin))),
    version: v.version,
    accuracy: v.accuracy
  }));
  const path = points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`)
    .join(' ');
  return { points, path, yMin, yMax };
}

/** The chain as shown in the status bar: `devnet` or `chain <id>`. */
export function chainLabel(status: IStatus): string {
  const chain = status.chain;
  if (!chain) {
    return '?';
  }
  return chain.devnet ? 'devnet' : `chain ${chain.chain_id}`;
}

/** The status bar text: `colearn: devnet · owner · 2 to verify`. */
export function statusText(status: IStatus | null, error = ''): string {
  if (!status) {
    return error ? 'colearn: unavailable' : 'colearn: …';
  }
  const account = isReadOnly(status) ? 'read-only' : (status.account?.name ?? '?');
  const pending = status.pending_verifications ?? 0;
  return `colearn: ${chainLabel(status)} · ${account} · ${pending} to verify`;
}

/** Whether the server acts as no account: it shows the marketplace and refuses every action. */
export function isReadOnly(status: IStatus | null): boolean {
  return status?.account?.read_only === true;
}

/** What to configure when the server is read-only (its `why`), or `''`. */
export function readOnlyWhy(status: IStatus | null): string {
  if (!isReadOnly(status)) {
    return '';
  }
  return (
    status?.account?.why ||
    'this server acts as no account: configure c.ColearnSettings.account (or COLEARN_ACCOUNT), or name an account'
  );
}

/** Who the server acts as, for the sidebar's header: `owner · 0xf39F…2266`, or `no account (read-only)`. */
export function serverAccountText(status: IStatus | null): string {
  if (!status || !status.account?.name) {
    return '';
  }
  if (isReadOnly(status)) {
    return 'no account (read-only)';
  }
  return `${status.account.name} · ${shorten(status.account.address ?? '')}`;
}

/**
 * Why an action cannot run as `account` (the name typed for it; `''`: the server's own account): the server's
 * `why` when it acts as no account and no other account is named, otherwise `''` (the action may run).
 */
export function blockedReason(status: IStatus | null, account: string): string {
  const name = account.trim();
  if (!isReadOnly(status) || (name !== '' && name !== status?.account?.name)) {
    return '';
  }
  return readOnlyWhy(status);
}

/**
 * The note shown next to an action that runs as `account` when that is not the server's own account:
 * `acting as alice, not this server's account owner`; `''` for the server's own account (or none named).
 */
export function actingAsNote(status: IStatus | null, account: string): string {
  const name = account.trim();
  if (!name || !status || !status.account) {
    return '';
  }
  if (isReadOnly(status)) {
    return name === status.account.name ? '' : `acting as ${name}; this server acts as no account`;
  }
  return name === status.account.name ? '' : `acting as ${name}, not this server's account ${status.account.name}`;
}

/** The message of an `event: error` of the event stream (JSON `{message, code}`), or `''` for a connection error. */
export function streamErrorMessage(event: unknown): string {
  const data = event && typeof event === 'object' && 'data' in event ? (event as { data: unknown }).data : undefined;
  if (typeof data !== 'string' || data === '') {
    return '';
  }
  try {
    const parsed = JSON.parse(data);
    if (parsed && typeof parsed === 'object' && typeof parsed.message === 'string') {
      return parsed.message;
    }
  } catch {
    // not JSON: the text itself
  }
  return data.slice(0, 1000);
}

/** The message of an error thrown by `requestAPI` (the API's `{message}`) or anything else. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message || error.name;
  }
  if (error && typeof error === 'object' && 'message' in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}

/** Account names the API accepts. */
export function isAccountName(name: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(name);
}

// ------------------------------------------------------------------------------------------ state

export type SectionId = 'market' | 'queue' | 'account';

/**
 * The actions of the sidebar by the account field they run as: `challenge` (the challenger field), `resolve` (the
 * resolver field: resolve, answer, expire), `account` (the account box: claim, contribute, retrain).
 */
export type ActingField = 'challenge' | 'resolve' | 'account';

export interface IMarketState {
  search: string;
  sort: ModelSortKey;
  order: SortOrder;
  limit: number;
  models: IModelSummary[];
  total: number;
  loading: boolean;
  loaded: boolean;
  error: string;
  selectedId: number | null;
  detail: IModelDetail | null;
  detailLoading: boolean;
  detailError: string;
  busy: boolean;
  actionError: string;
  message: string;
}

export interface IQueueState {
  contributions: IContribution[];
  loading: boolean;
  loaded: boolean;
  error: string;
  selectedId: number | null;
  detail: IContributionDetail | null;
  detailLoading: boolean;
  detailError: string;
  selectedRows: number[];
  /** the account that challenges (default "verifier") */
  verifier: string;
  challenges: IChallenge[];
  challengesLoading: boolean;
  challengesError: string;
  selectedChallengeId: number | null;
  /** the account that resolves challenges (default: the server's account, from /status) */
  resolver: string;
  busy: boolean;
  actionError: string;
  message: string;
}

/** The clock control (time travel on the devnet or a development node): its duration field and last outcome. */
export interface IClockState {
  /** how far to move the clock, as typed (`1h`, `90m`, `2d`...) */
  duration: string;
  busy: boolean;
  error: string;
  message: string;
}

export interface IAccountState {
  name: string;
  info: IAccountInfo | null;
  loading: boolean;
  error: string;
  busy: boolean;
  actionError: string;
  message: string;
}

/** What every section shows of its actions (contribute, challenge, resolve, claim). */
interface IActionState {
  busy: boolean;
  actionError: string;
  message: string;
}

/** The state of each section, by its id. */
interface ISectionStates {
  market: IMarketState;
  queue: IQueueState;
  account: IAccountState;
}

/** The part of EventSource the model uses (so tests can pass a fake). */
export interface IEventSourceLike {
  onmessage: ((event: MessageEvent) => any) | null;
  onerror: ((event: Event) => any) | null;
  onopen: ((event: Event) => any) | null;
  readonly readyState: number;
  addEventListener?(type: string, listener: (event: MessageEvent) => any): void;
  close(): void;
}

export interface IColearnModelOptions {
  /** wait this long after typing in the search box before asking the server (ms, default 250) */
  searchDelay?: number;
  /** wait this long after an event before refreshing, to coalesce bursts (ms, default 300) */
  eventDelay?: number;
  /** how to open the event stream (default: `new EventSource(url)`) */
  eventSourceFactory?: (url: string) => IEventSourceLike;
  /** seconds since the epoch, for "time left" (default: Date.now) */
  now?: () => number;
}

const EVENT_SOURCE_OPEN = 1;
const EVENT_SOURCE_CLOSED = 2;

/**
 * The colearn panels' state. Every network call goes through `requestAPI`; every change emits
 * `stateChanged`. Methods that act (contribute, challenge, resolve, claim) return the API's answer, or
 * `null` after showing its error in the section's `actionError`.
 */
export class ColearnModel {
  constructor(options: IColearnModelOptions = {}) {
    this._searchDelay = options.searchDelay ?? 250;
    this._eventDelay = options.eventDelay ?? 300;
    this._eventSourceFactory =
      options.eventSourceFactory ??
      ((url: string) => new EventSource(url) as unknown as IEventSourceLike);
    this._now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  // ---------------------------------------------------------------- state
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** Every marketplace event from `/events`, after it arrives. */
  get eventReceived(): ISignal<this, MarketEvent> {
    return this._eventReceived;
  }

  get status(): IStatus | null {
    return this._status;
  }
  get statusError(): string {
    return this._statusError;
  }
  get market(): IMarketState {
    return this._market;
  }
  get queue(): IQueueState {
    return this._queue;
  }
  get account(): IAccountState {
    return this._account;
  }
  get clock(): IClockState {
    return this._clock;
  }
  get section(): SectionId {
    return this._section;
  }
  /** Whether the event stream is open. */
  get live(): boolean {
    return this._live;
  }
  get isDisposed(): boolean {
    return this._isDisposed;
  }
  /**
   * The chain's time now (seconds), for "time left": the browser's clock, plus how far the chain's clock has been
   * seen ahead of it (time travel moves it forward). Never behind the browser's: on a devnet nothing is mined while
   * idle, so its latest block may be old.
   */
  now(): number {
    return this._now() + this._chainAhead;
  }

  /** Whether the chain's clock can be moved from here (the devnet or a development node on this machine). */
  get timeTravel(): boolean {
    return this._status?.time_travel === true && !this._status.error;
  }

  /** The models to list: the server's page, filtered and sorted like the server does. */
  get visibleModels(): IModelSummary[] {
    const { models, search, sort, order } = this._market;
    return sortModels(filterModels(models, search), sort, order);
  }

  /** The account used by default for actions (from /status), or `''` before it is known or when read-only. */
  get defaultAccount(): string {
    return this.readOnly ? '' : (this._status?.account?.name ?? '');
  }

  /** Whether the server acts as no account (it reads the marketplace and refuses actions); see {@link readOnlyWhy}. */
  get readOnly(): boolean {
    return isReadOnly(this._status);
  }

  /** The message of the event stream's last `event: error` (the chain cannot be reached), until it recovers. */
  get streamError(): string {
    return this._streamError;
  }

  /**
   * The account an action runs as (`''`: the server's own): the name in its field; on a read-only server, an empty
   * challenger or resolver field falls back to the account box (the sidebar's choice of an account to act as).
   */
  actingAccount(field: ActingField): string {
    const box = this._account.name.trim();
    if (field === 'account') {
      return box;
    }
    const own = (field === 'challenge' ? this._queue.verifier : this._queue.resolver).trim();
    return own || (this.readOnly ? box : '');
  }

  /** Why the actions of `field` cannot run now (the server's `why` when read-only and no account is named), or `''`. */
  blockedReason(field: ActingField): string {
    return blockedReason(this._status, this.actingAccount(field));
  }

  /** The note shown next to the actions of `field` when they run as another account than the server's, or `''`. */
  actingNote(field: ActingField): string {
    return actingAsNote(this._status, this.actingAccount(field));
  }

  setSection(section: SectionId): void {
    if (section !== this._section) {
      this._section = section;
      this._changed();
    }
  }

  // ---------------------------------------------------------------- status
  async refreshStatus(): Promise<void> {
    const seq = ++this._seq.status;
    try {
      const status = await requestAPI<IStatus>('status');
      if (seq !== this._seq.status) {
        return;
      }
      this._status = status;
      this._statusError = '';
      if (typeof status.chain_time === 'number') {
        this._sawChainTime(status.chain_time);
      }
      if (!status.error && this._streamError) {
        // the chain answers again: so does the stream, if it is still open
        this._streamError = '';
        this._live = this._source !== null && this._source.readyState === EVENT_SOURCE_OPEN;
      }
      // the account fields follow the server's account until the user types another; a read-only server acts as
      // nobody, so they stay empty (an account is then an explicit choice)
      const readOnly = isReadOnly(status);
      const name = readOnly ? '' : (status.account?.name ?? '');
      if (readOnly && !this._accountEdited) {
        ++this._seq.account; // an answer (even one on its way) for the server's watch-only account is nobody's
        this._account = { ...this._account, name: '', info: null, loading: false };
      } else if (name && !this._accountEdited && this._account.name !== name) {
        this._account = { ...this._account, name, info: null };
        void this.refreshAccount();
      }
      if ((name || readOnly) && !this._resolverEdited && this._queue.resolver !== name) {
        this._queue = { ...this._queue, resolver: name };
      }
      // the devnet's demo: the owner publishes, the named account "verifier" challenges; elsewhere, the server's own
      const verifier = status.chain?.devnet && name === 'owner' ? 'verifier' : '';
      if (!this._verifierEdited && this._queue.verifier !== verifier) {
        this._queue = { ...this._queue, verifier };
      }
    } catch (error) {
      if (seq !== this._seq.status) {
        return;
      }
      this._statusError = errorMessage(error);
    }
    this._changed();
  }

  // ---------------------------------------------------------------- marketplace
  async refreshModels(): Promise<void> {
    const seq = ++this._seq.models;
    const { search, sort, order, limit } = this._market;
    this._setMarket({ loading: true });
    try {
      const page = await requestAPI<IModelPage>(
        'models' +
          buildQuery({ search: search.trim().slice(0, 200), sort, order, limit })
      );
      if (seq !== this._seq.models) {
        return;
      }
      this._setMarket({
        models: page.models ?? [],
        total: page.total ?? 0,
        loading: false,
        loaded: true,
        error: ''
      });
    } catch (error) {
      if (seq !== this._seq.models) {
        return;
      }
      this._setMarket({ loading: false, loaded: true, error: errorMessage(error) });
    }
  }

  /** Set the search text; the list is asked for again after a short pause in typing. */
  setSearch(search: string): Promise<void> {
    this._setMarket({ search });
    if (this._searchTimer !== null) {
      clearTimeout(this._searchTimer);
      this._searchTimer = null;
    }
    if (this._searchDelay <= 0) {
      return this.refreshModels();
    }
    return new Promise<void>(resolve => {
      this._searchWaiters.push(resolve);
      this._searchTimer = setTimeout(() => {
        this._searchTimer = null;
        const waiters = this._searchWaiters.splice(0);
        void this.refreshModels().then(() => waiters.forEach(w => w()));
      }, this._searchDelay);
    });
  }

  setSort(sort: ModelSortKey, order?: SortOrder): Promise<void> {
    this._setMarket({ sort, order: order ?? this._market.order });
    return this.refreshModels();
  }

  setOrder(order: SortOrder): Promise<void> {
    this._setMarket({ order });
    return this.refreshModels();
  }

  /** Open a model's card (`null` closes it). */
  async selectModel(id: number | null): Promise<void> {
    this._setMarket({
      selectedId: id,
      detail: id === this._market.selectedId ? this._market.detail : null,
      detailError: '',
      actionError: '',
      message: ''
    });
    if (id !== null) {
      await this.refreshModelDetail();
    }
  }

  async refreshModelDetail(): Promise<void> {
    const id = this._market.selectedId;
    if (id === null) {
      return;
    }
    const seq = ++this._seq.modelDetail;
    this._setMarket({ detailLoading: true });
    try {
      const detail = await requestAPI<IModelDetail>(`models/${id}`);
      if (seq !== this._seq.modelDetail) {
        return;
      }
      this._setMarket({ detail, detailLoading: false, detailError: '' });
    } catch (error) {
      if (seq !== this._seq.modelDetail) {
        return;
      }
      this._setMarket({ detailLoading: false, detailError: errorMessage(error) });
    }
  }

  /** `POST /contributions`: contribute a CSV or Parquet file (a path under the server's root). */
  async contribute(
    modelId: number,
    path: string,
    account?: string
  ): Promise<IContribution | null> {
    const body: IContributeRequest = { model: modelId, path: path.trim() };
    const who = (account ?? '').trim();
    if (who) {
      body.account = who;
    }
    return this._act(
      'market',
      () =>
        requestAPI<IContribution>('contributions', {
          method: 'POST',
          body: JSON.stringify(body)
        }),
      created => ({
        state: {
          message: `Submission #${created.id}: ${created.rows} rows contributed to model #${created.model}`
        },
        // not awaited: the new submission is shown while the panels refresh
        refresh: () => void this.refreshAll()
      })
    );
  }

  // ---------------------------------------------------------------- verification queue
  /** The pending contributions and the pending challenges (and the open submission). */
  async refreshQueue(): Promise<void> {
    await Promise.all([
      this.refreshContributions(),
      this.refreshChallenges(),
      this.refreshContributionDetail()
    ]);
  }

  async refreshContributions(): Promise<void> {
    const seq = ++this._seq.contributions;
    this._setQueue({ loading: true });
    try {
      const list = await requestAPI<IContributionList>(
        'contributions' + buildQuery({ state: 'pending' })
      );
      if (seq !== this._seq.contributions) {
        return;
      }
      this._setQueue({
        contributions: list.contributions ?? [],
        loading: false,
        loaded: true,
        error: ''
      });
    } catch (error) {
      if (seq !== this._seq.contributions) {
        return;
      }
      this._setQueue({ loading: false, loaded: true, error: errorMessage(error) });
    }
  }

  async refreshChallenges(): Promise<void> {
    const seq = ++this._seq.challenges;
    this._setQueue({ challengesLoading: true });
    try {
      const list = await requestAPI<IChallengeList>(
        'challenges' + buildQuery({ status: 'pending' })
      );
      if (seq !== this._seq.challenges) {
        return;
      }
      const selected = this._queue.selectedChallengeId;
      const challenges = list.challenges ?? [];
      const detail = this._queue.detail;
      this._setQueue({
        challenges,
        selectedRows: detail
          ? keepRowSelection(
              this._queue.selectedRows,
              detail.report,
              challengedRows(detail.contribution.id, detail.report, challenges)
            )
          : this._queue.selectedRows,
        challengesLoading: false,
        challengesError: '',
        selectedChallengeId:
          selected !== null && challenges.some(c => c.id === selected)
            ? selected
            : null
      });
    } catch (error) {
      if (seq !== this._seq.challenges) {
        return;
      }
      this._setQueue({
        challengesLoading: false,
        challengesError: errorMessage(error)
      });
    }
  }

  /** Open a submission: verify it (`GET /contributions/{id}`) and pre-select the suggested rows. */
  async selectContribution(id: number | null): Promise<void> {
    const same = id === this._queue.selectedId;
    this._setQueue({
      selectedId: id,
      detail: same ? this._queue.detail : null,
      selectedRows: same ? this._queue.selectedRows : [],
      detailError: '',
      actionError: '',
      message: ''
    });
    if (id !== null) {
      await this.refreshContributionDetail(!same);
    }
  }

  async refreshContributionDetail(resetSelection = false): Promise<void> {
    const id = this._queue.selectedId;
    if (id === null) {
      return;
    }
    const seq = ++this._seq.contributionDetail;
    this._setQueue({ detailLoading: true });
    try {
      const detail = await requestAPI<IContributionDetail>(`contributions/${id}`);
      if (seq !== this._seq.contributionDetail || id !== this._queue.selectedId) {
        return;
      }
      const fresh = resetSelection || this._queue.detail === null;
      const challenged = challengedRows(id, detail.report, this._queue.challenges);
      this._setQueue({
        detail,
        detailLoading: false,
        detailError: '',
        selectedRows: fresh
          ? initialRowSelection(detail.report, challenged)
          : keepRowSelection(this._queue.selectedRows, detail.report, challenged)
      });
    } catch (error) {
      if (seq !== this._seq.contributionDetail) {
        return;
      }
      this._setQueue({ detailLoading: false, detailError: errorMessage(error) });
    }
  }

  toggleRow(row: number, selected?: boolean): void {
    const current = new Set(this._queue.selectedRows);
    const on = selected ?? !current.has(row);
    if (on) {
      current.add(row);
    } else {
      current.delete(row);
    }
    this._setQueue({ selectedRows: [...current].sort((a, b) => a - b) });
  }

  setSelectedRows(rows: number[]): void {
    this._setQueue({ selectedRows: [...new Set(rows)].sort((a, b) => a - b) });
  }

  /** The challenged rows of the open submission (row → challenge id). */
  get challengedRows(): Map<number, number> {
    const { detail, challenges } = this._queue;
    return detail
      ? challengedRows(detail.contribution.id, detail.report, challenges)
      : new Map();
  }

  /** Select the rows the report suggests that are not challenged yet (and nothing else). */
  selectSuggestedRows(): void {
    const report = this._queue.detail?.report;
    this.setSelectedRows(report ? initialRowSelection(report, this.challengedRows) : []);
  }

  setVerifier(verifier: string): void {
    this._verifierEdited = true;
    this._setQueue({ verifier });
  }

  setResolver(resolver: string): void {
    this._resolverEdited = true;
    this._setQueue({ resolver });
  }

  /**
   * `POST /challenges` for the open submission as the verifier account: `rows` (default: the selected
   * rows); `null` asks the server to challenge the rows its verification suggests.
   */
  async challenge(rows?: number[] | null): Promise<number[] | null> {
    const submission = this._queue.selectedId;
    if (submission === null) {
      this._setQueue({ actionError: 'Open a submission first.' });
      return null;
    }
    const chosen = rows === undefined ? this._queue.selectedRows : rows;
    if (chosen !== null && chosen.length === 0) {
      this._setQueue({ actionError: 'Select at least one row to challenge.' });
      return null;
    }
    const body: IChallengeRequest = { submission };
    if (chosen !== null) {
      body.rows = chosen.map(row => (row === WHOLE_FILE ? null : row));
    }
    // each row is challenged with the kind of the plan (the server decides; this is for the message)
    const report = this._queue.detail?.report;
    const plan = report ? plannedKinds(report) : new Map<number, ChallengeKind>();
    const kinds = (chosen ?? report?.suggested ?? []).map(row => plan.get(row ?? WHOLE_FILE) ?? '');
    const verifier = this.actingAccount('challenge');
    if (verifier) {
      body.account = verifier;
    }
    return this._act(
      'queue',
      async () =>
        (
          await requestAPI<IChallengeCreated>('challenges', {
            method: 'POST',
            body: JSON.stringify(body)
          })
        ).challenges,
      ids => ({
        state: {
          selectedRows: [],
          message:
            ids.length === 0
              ? 'No challenge opened.'
              : `Opened ${ids.length === 1 ? 'challenge' : 'challenges'} ` +
                ids.map((id, i) => `#${id}` + (kinds[i] ? ` (${kinds[i]})` : '')).join(', ')
        },
        refresh: () => this._refreshAfterVerdict()
      })
    );
  }

  /** The kind of a listed challenge (undefined when the list does not hold it). */
  private _kindOf(challengeId: number): ChallengeKind | undefined {
    return this._queue.challenges.find(c => c.id === challengeId)?.kind;
  }

  /** Challenge the suggested rows of the open submission (the palette command). */
  challengeSuggested(): Promise<number[] | null> {
    const report = this._queue.detail?.report;
    return this.challenge(report ? initialRowSelection(report, this.challengedRows) : null);
  }

  selectChallenge(id: number | null): void {
    this._setQueue({ selectedChallengeId: id });
  }

  /** `POST /challenges/{id}/resolve` as the resolver account (the model's owner). */
  async resolve(
    challengeId: number,
    verdict: ResolveVerdict
  ): Promise<IResolveResult | null> {
    const body: IResolveRequest = { verdict };
    const resolver = this.actingAccount('resolve');
    if (resolver) {
      body.account = resolver;
    }
    return this._act(
      'queue',
      () =>
        requestAPI<IResolveResult>(`challenges/${challengeId}/resolve`, {
          method: 'POST',
          body: JSON.stringify(body)
        }),
      result => ({
        state: {
          message: `Challenge #${result.challenge} ${verdictText(result.upheld, this._kindOf(result.challenge))}`
        },
        refresh: () => this._refreshAfterVerdict()
      })
    );
  }

  /**
   * `POST /challenges/{id}/answer` as the resolver account: produce the row an availability challenge
   * demands, from the server's storage (the account earns the bond).
   */
  async answer(challengeId: number): Promise<IAnswerResult | null> {
    return this._act(
      'queue',
      () =>
        requestAPI<IAnswerResult>(`challenges/${challengeId}/answer`, {
          method: 'POST',
          body: JSON.stringify(this._challengeActionBody())
        }),
      result => ({
        state: { message: `Challenge #${result.challenge} answered: the demanded row is on chain` },
        refresh: () => this._refreshAfterVerdict()
      })
    );
  }

  /**
   * `POST /challenges/{id}/expire`: close a challenge past its time-out (a label stands; an unanswered demand
   * forfeits the batch).
   */
  async expire(challengeId: number): Promise<IExpireResult | null> {
    return this._act(
      'queue',
      () =>
        requestAPI<IExpireResult>(`challenges/${challengeId}/expire`, {
          method: 'POST',
          body: JSON.stringify(this._challengeActionBody())
        }),
      result => ({
        state: {
          message: `Challenge #${result.challenge} expired: ${result.forfeited ? 'the batch is forfeited' : 'the row stands'}`
        },
        refresh: () => this._refreshAfterVerdict()
      })
    );
  }

  /** The selected challenge, or `null` after asking to select one. */
  private _selectedChallenge(): IChallenge | null {
    const id = this._queue.selectedChallengeId;
    const found = this._queue.challenges.find(c => c.id === id) ?? null;
    if (found === null) {
      this._setQueue({ actionError: 'Select a challenge first.' });
    }
    return found;
  }

  /** Answer the selected challenge (the palette command). */
  answerSelected(): Promise<IAnswerResult | null> {
    const challenge = this._selectedChallenge();
    return challenge === null ? Promise.resolve(null) : this.answer(challenge.id);
  }

  /** Expire the selected challenge (the palette command). */
  expireSelected(): Promise<IExpireResult | null> {
    const challenge = this._selectedChallenge();
    return challenge === null ? Promise.resolve(null) : this.expire(challenge.id);
  }

  private _challengeActionBody(): IChallengeActionRequest {
    const who = this.actingAccount('resolve');
    return who ? { account: who } : {};
  }

  /** Resolve the selected challenge (the palette command; `auto` lets the current model judge). */
  resolveSelected(verdict: ResolveVerdict = 'auto'): Promise<IResolveResult | null> {
    const challenge = this._selectedChallenge();
    if (challenge === null) {
      return Promise.resolve(null);
    }
    if (!ownerJudges(challenge)) {
      this._setQueue({
        actionError: `Challenge #${challenge.id} is of kind ${challenge.kind}: the owner judges label challenges only.`
      });
      return Promise.resolve(null);
    }
    return this.resolve(challenge.id, verdict);
  }

  // ---------------------------------------------------------------- account
  setAccountName(name: string): void {
    this._accountEdited = true;
    this._setAccount({ name, info: null, error: '', actionError: '', message: '' });
  }

  async refreshAccount(): Promise<void> {
    const name = this._account.name.trim();
    const seq = ++this._seq.account;
    if (!name && this.readOnly) {
      // the server acts as nobody: there is no balance to show until an account is named
      this._setAccount({ loading: false, info: null, error: '' });
      return;
    }
    if (name && !isAccountName(name)) {
      this._setAccount({
        loading: false,
        info: null,
        error: `"${name}" is not an account name (1-64 letters, digits, _ or -)`
      });
      return;
    }
    this._setAccount({ loading: true });
    try {
      const info = await requestAPI<IAccountInfo>(
        'account' + buildQuery({ account: name })
      );
      if (seq !== this._seq.account) {
        return;
      }
      this._setAccount({ info, loading: false, error: '' });
    } catch (error) {
      if (seq !== this._seq.account) {
        return;
      }
      this._setAccount({ loading: false, error: errorMessage(error) });
    }
  }

  /** `POST /claims`: claim every settled submission of the account and withdraw. */
  async claim(): Promise<IClaimResult | null> {
    const name = this._account.name.trim();
    return this._act(
      'account',
      () =>
        requestAPI<IClaimResult>('claims', {
          method: 'POST',
          body: JSON.stringify(name ? { account: name } : {})
        }),
      result => ({
        state: {
          message:
            parseWei(result.withdrawn_wei) === BigInt(0)
              ? 'Nothing to claim yet.'
              : `Withdrew ${formatWei(result.withdrawn_wei)}`
        },
        refresh: () => this.refreshAccount()
      })
    );
  }

  /**
   * `POST /models/{id}/versions`: retrain the model on its accepted rows and publish a new version, as the account
   * box's account (the model's owner; the server's own when the box is empty or names it).
   */
  async retrain(modelId: number): Promise<IModelDetail | null> {
    const name = this.actingAccount('account');
    const body: IAsAccount = name && name !== this._status?.account?.name ? { account: name } : {};
    return this._act(
      'market',
      () =>
        requestAPI<IModelDetail>(`models/${modelId}/versions`, {
          method: 'POST',
          body: JSON.stringify(body)
        }),
      detail => {
        const latest = detail.versions[detail.versions.length - 1];
        return {
          state: {
            message: latest
              ? `Published version ${latest.version} of model #${modelId}: ${formatAccuracy(latest.accuracy)}`
              : `Retrained model #${modelId}`,
            ...(this._market.selectedId === modelId ? { detail } : {})
          },
          refresh: () => this.refreshModels()
        };
      }
    );
  }

  /**
   * Whether the card of a model offers Retrain: its owner is the account the market's actions run as (the account
   * box's, once shown, or the server's), or the server is read-only (the button then says why it cannot).
   */
  offersRetrain(owner: string): boolean {
    if (this.blockedReason('account')) {
      return true;
    }
    const info = this._account.info;
    const named = this.actingAccount('account');
    const server = this._status?.account;
    let address = '';
    if (!named || named === server?.name) {
      address = server?.address ?? '';
    } else if (info && info.name === named) {
      address = info.address;
    }
    return address !== '' && address.toLowerCase() === owner.toLowerCase();
  }

  // ---------------------------------------------------------------- clock
  setClockDuration(duration: string): void {
    this._setClock({ duration, error: '', message: '' });
  }

  /**
   * `POST /time/advance`: move the chain's clock forward by the duration field (for everyone on this chain, e.g. to
   * let a challenge window pass), as the account box's account; then refresh every panel. In a class on the devnet
   * only the instructor may: a refusal is shown in the clock's `error`. Returns the answer, or `null`.
   */
  async advanceClock(): Promise<ITimeAdvanceResult | null> {
    const duration = this._clock.duration.trim();
    if (!duration) {
      this._setClock({ error: 'How far? Write a duration like 90s, 10m, 1h30m or 2d', message: '' });
      return null;
    }
    const name = this.actingAccount('account');
    const body: ITimeAdvanceRequest = { duration };
    if (name && name !== this._status?.account?.name) {
      body.account = name;
    }
    this._setClock({ busy: true, error: '', message: '' });
    let result: ITimeAdvanceResult;
    try {
      result = await requestAPI<ITimeAdvanceResult>('time/advance', {
        method: 'POST',
        body: JSON.stringify(body)
      });
    } catch (error) {
      this._setClock({ busy: false, error: errorMessage(error) });
      return null;
    }
    this._sawChainTime(result.chain_time);
    this._setClock({
      busy: false,
      message: `Chain time is now ${formatChainTime(result.chain_time)} (+${formatDuration(result.advanced_seconds)})`
    });
    await this.refreshAll(); // windows and time-outs may have passed
    return result;
  }

  // ---------------------------------------------------------------- everything
  /** Ask the server again for everything shown. */
  async refreshAll(): Promise<void> {
    await Promise.all([
      this.refreshStatus(),
      this.refreshModels(),
      this.refreshModelDetail(),
      this.refreshQueue(),
      this.refreshAccount()
    ]);
  }

  /** Open `/events` and refresh the panels when marketplace events arrive; reconnects when closed. */
  connectEvents(): void {
    if (this._isDisposed || this._source) {
      return;
    }
    let source: IEventSourceLike;
    let opened = false;
    try {
      source = this._eventSourceFactory(eventsURL(undefined, this._eventsWithToken));
    } catch (error) {
      console.warn('colearn: cannot open the event stream', error);
      this._scheduleReconnect();
      return;
    }
    this._source = source;
    source.onopen = () => {
      opened = true;
      this._reconnectDelay = 2000;
      // a new stream: if the chain still cannot be reached, the server says so again at once
      this._streamError = '';
      this._setLive(true);
    };
    const onEvent = (event: MessageEvent) => {
      let data: MarketEvent = {};
      try {
        data = JSON.parse(String(event.data));
      } catch {
        data = { raw: event.data };
      }
      this._streamError = '';
      this._setLive(true);
      this._eventReceived.emit(data);
      this._scheduleEventRefresh();
    };
    // unnamed events (`data:` only, as the API document has it) and named ones (`event: RowChallenged`)
    source.onmessage = onEvent;
    if (source.addEventListener) {
      for (const name of MARKET_EVENT_NAMES) {
        source.addEventListener(name, onEvent);
      }
    }
    source.onerror = (event: Event) => {
      // the server's `event: error` (the chain cannot be reached) carries its message; a connection error does not
      const message = streamErrorMessage(event);
      if (message && message !== this._streamError) {
        this._streamError = message;
        this._changed();
      }
      this._setLive(false);
      if (source.readyState === EVENT_SOURCE_CLOSED) {
        // the browser gave up (e.g. an HTTP error): try again later
        source.close();
        if (this._source === source) {
          this._source = null;
        }
        if (!opened) {
          // refused outright (e.g. a server that does not take `token=` in the query):
          // the next try authenticates the other way (login cookie, or token)
          this._eventsWithToken = !this._eventsWithToken;
        }
        this._scheduleReconnect();
      }
    };
  }

  disconnectEvents(): void {
    if (this._reconnectTimer !== null) {
      clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
    if (this._source) {
      this._source.close();
      this._source = null;
    }
    this._setLive(false);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this.disconnectEvents();
    for (const timer of [this._searchTimer, this._eventTimer]) {
      if (timer !== null) {
        clearTimeout(timer);
      }
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  // ---------------------------------------------------------------- private
  /**
   * Run one action of a section: mark the section busy and clear its messages, make the request, show
   * the outcome (`state`, with the success message) and refresh what it changed. Returns the request's
   * answer, or `null` after showing its error in the section's `actionError`.
   */
  private async _act<K extends SectionId, T>(
    section: K,
    request: () => Promise<T>,
    onSuccess: (result: T) => {
      state: Partial<ISectionStates[K]> & { message: string };
      refresh: () => Promise<unknown> | void;
    }
  ): Promise<T | null> {
    const set = (patch: Partial<IActionState> | Partial<ISectionStates[K]>) =>
      this._setSectionState(section, patch as Partial<ISectionStates[K]>);
    set({ busy: true, actionError: '', message: '' });
    try {
      const result = await request();
      const { state, refresh } = onSuccess(result);
      set({ busy: false, ...state });
      await refresh();
      return result;
    } catch (error) {
      set({ busy: false, actionError: errorMessage(error) });
      return null;
    }
  }

  /** After a challenge or a resolution: the queue, the report, the challenges and the status. */
  private async _refreshAfterVerdict(): Promise<void> {
    await Promise.all([this.refreshQueue(), this.refreshStatus()]);
  }

  private _setSectionState<K extends SectionId>(
    section: K,
    patch: Partial<ISectionStates[K]>
  ): void {
    const setters: { [S in SectionId]: (patch: Partial<ISectionStates[S]>) => void } = {
      market: p => this._setMarket(p),
      queue: p => this._setQueue(p),
      account: p => this._setAccount(p)
    };
    setters[section](patch);
  }

  private _scheduleEventRefresh(): void {
    if (this._eventTimer !== null) {
      return;
    }
    this._eventTimer = setTimeout(() => {
      this._eventTimer = null;
      void this.refreshAll();
    }, this._eventDelay);
  }

  private _scheduleReconnect(): void {
    if (this._isDisposed || this._reconnectTimer !== null) {
      return;
    }
    const delay = this._reconnectDelay;
    this._reconnectDelay = Math.min(60000, delay * 2);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      this.connectEvents();
    }, delay);
  }

  private _setLive(live: boolean): void {
    if (live !== this._live) {
      this._live = live;
      this._changed();
    }
  }

  private _setMarket(patch: Partial<IMarketState>): void {
    this._market = { ...this._market, ...patch };
    this._changed();
  }

  private _setQueue(patch: Partial<IQueueState>): void {
    this._queue = { ...this._queue, ...patch };
    this._changed();
  }

  private _setAccount(patch: Partial<IAccountState>): void {
    this._account = { ...this._account, ...patch };
    this._changed();
  }

  private _setClock(patch: Partial<IClockState>): void {
    this._clock = { ...this._clock, ...patch };
    this._changed();
  }

  /** Remember how far ahead of the browser's clock the chain's is, from a timestamp the chain just gave. */
  private _sawChainTime(chainTime: number): void {
    this._chainAhead = Math.max(this._chainAhead, chainTime - this._now());
  }

  private _changed(): void {
    if (!this._isDisposed) {
      this._stateChanged.emit();
    }
  }

  private _stateChanged = new Signal<this, void>(this);
  private _eventReceived = new Signal<this, MarketEvent>(this);
  private _status: IStatus | null = null;
  private _statusError = '';
  private _section: SectionId = 'market';
  private _market: IMarketState = {
    search: '',
    sort: 'id',
    order: 'asc',
    limit: 50,
    models: [],
    total: 0,
    loading: false,
    loaded: false,
    error: '',
    selectedId: null,
    detail: null,
    detailLoading: false,
    detailError: '',
    busy: false,
    actionError: '',
    message: ''
  };
  private _queue: IQueueState = {
    contributions: [],
    loading: false,
    loaded: false,
    error: '',
    selectedId: null,
    detail: null,
    detailLoading: false,
    detailError: '',
    selectedRows: [],
    verifier: 'verifier',
    challenges: [],
    challengesLoading: false,
    challengesError: '',
    selectedChallengeId: null,
    resolver: '',
    busy: false,
    actionError: '',
    message: ''
  };
  private _account: IAccountState = {
    name: '',
    info: null,
    loading: false,
    error: '',
    busy: false,
    actionError: '',
    message: ''
  };
  private _clock: IClockState = { duration: '1h', busy: false, error: '', message: '' };
  /** seconds the chain's clock was seen ahead of the browser's (time travel), never negative */
  private _chainAhead = 0;
  private _accountEdited = false;
  private _resolverEdited = false;
  private _verifierEdited = false;
  private _streamError = '';
  private _seq = {
    status: 0,
    models: 0,
    modelDetail: 0,
    contributions: 0,
    challenges: 0,
    contributionDetail: 0,
    account: 0
  };
  private _searchDelay: number;
  private _eventDelay: number;
  private _searchTimer: ReturnType<typeof setTimeout> | null = null;
  private _searchWaiters: (() => void)[] = [];
  private _eventTimer: ReturnType<typeof setTimeout> | null = null;
  private _reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private _reconnectDelay = 2000;
  private _source: IEventSourceLike | null = null;
  private _eventsWithToken = true;
  private _eventSourceFactory: (url: string) => IEventSourceLike;
  private _now: () => number;
  private _live = false;
  private _isDisposed = false;
}
