/**
 * Types of the colearn REST API, written from `colearn_jupyter/server/openapi.json` (version 0.1.0).
 *
 * Every endpoint lives under `<baseUrl>/colearn/api/`. Amounts are wei as decimal strings (`Wei`),
 * durations and timestamps are seconds. Errors are JSON `{message, code?}`.
 */

/** A wei amount as a decimal string (pattern `^[0-9]+$`). */
export type Wei = string;

/** An account name (1-64 of `[A-Za-z0-9_-]`). */
export type AccountName = string;

/** `components.schemas.Error`: the body of every non-2xx answer. */
export interface IErrorBody {
  message: string;
  code?: string;
}

/** `GET /status` */
export interface IStatus {
  version: string;
  chain: {
    devnet: boolean;
    url: string;
    chain_id: number;
  };
  marketplace?: string;
  /** the account this server acts as: without one (`read_only`), it shows the marketplace and refuses actions */
  account: IServerAccount;
  storage: string;
  pending_verifications: number;
  /** whether the chain's clock can be moved (the devnet or a development node on this machine): `POST /time/advance` */
  time_travel?: boolean;
  /** the timestamp of the chain's latest block (seconds): windows and time-outs are measured on the chain's clock */
  chain_time?: number;
  /** the chain cannot be reached: what is wrong (the rest of the status is a placeholder) */
  error?: string;
}

/** `Status.account`: who the server acts as. */
export interface IServerAccount {
  name: string;
  address: string;
  /** true when the server acts as no account: it reads the marketplace, and refuses every action with `why` */
  read_only?: boolean;
  /** when read-only, what to configure */
  why?: string;
}

/** One `event: error` of `GET /events`: the chain cannot be reached, and what to do. */
export interface IStreamError {
  message: string;
  code?: string;
}

/** The sort keys `GET /models` accepts. */
export const MODEL_SORT_KEYS = [
  'id',
  'name',
  'accuracy',
  'rows_accepted',
  'rows_pending'
] as const;
export type ModelSortKey = (typeof MODEL_SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';

/** Query parameters of `GET /models`. */
export interface IModelQuery {
  offset?: number;
  /** 1..1000, default 50 */
  limit?: number;
  /** at most 200 characters */
  search?: string;
  sort?: ModelSortKey;
  order?: SortOrder;
}

/** `components.schemas.ModelSummary` */
export interface IModelSummary {
  id: number;
  name: string;
  owner: string;
  accuracy: number | null;
  versions: number;
  rows_accepted: number;
  rows_pending: number;
  rows_rejected: number;
  deposit_wei: Wei;
  reward_wei: Wei;
  bond_wei: Wei;
  window_s: number;
  timeout_s: number;
  reward_pool_wei: Wei;
}

/** `GET /models`: `components.schemas.ModelPage` */
export interface IModelPage {
  total: number;
  offset: number;
  limit: number;
  models: IModelSummary[];
}

/** `components.schemas.Version`: one published version (a point of the accuracy history). */
export interface IVersion {
  version: number;
  parent: number;
  accuracy: number;
  rows_accepted: number;
  published_at: number;
  model_cid: string;
  evaluation_cid?: string;
  /** the accuracy measured on the revealed test set (null before the reveal, or when the model cannot be run) */
  measured_accuracy?: number | null;
  /** the claimed accuracy against the revealed test set */
  check?: AccuracyCheck;
}

/**
 * `verified` (the claim holds on the revealed test set), `disputed`, `unverified` (not revealed), `unreadable` or
 * `unchecked` (older than the newest versions, which alone are run).
 */
export type AccuracyCheck = 'verified' | 'disputed' | 'unverified' | 'unreadable' | 'unchecked';

/** `GET /models/{modelId}`, `POST /models/{modelId}/versions` */
export interface IModelDetail {
  model: IModelSummary;
  versions: IVersion[];
}

/** `components.schemas.AsAccount`: the body of `POST /claims` and `POST /models/{id}/versions`. */
export interface IAsAccount {
  account?: AccountName;
}

/** `components.schemas.Contribution`: one submission (a batch of rows). */
export interface IContribution {
  id: number;
  model: number;
  contributor: string;
  rows: number;
  data_cid: string;
  window_ends_at: number;
  open_challenges: number;
  rows_rejected: number;
  /** settled with its accepted rows paid */
  claimed: boolean;
  /** settled because a row demanded by an availability challenge was never produced: its deposits were burned */
  forfeited: boolean;
}

/** Query parameters of `GET /contributions`. */
export interface IContributionQuery {
  model?: number;
  state?: 'pending' | 'all';
}

/** `GET /contributions` */
export interface IContributionList {
  contributions: IContribution[];
}

/**
 * A row's verdict: `ok`; `suspicious` (the model disagrees with its label: the owner judges); `bad` (an objective
 * fault: the contract judges); `rejected` or `challenged` when the chain already says so.
 */
export type Verdict = 'ok' | 'suspicious' | 'bad' | 'rejected' | 'challenged';

/**
 * `components.schemas.ChallengeKind`: how a row is challenged. `format`, `duplicate`, `training copy` and
 * `test copy` are judged by the contract at once; `label` is judged by the model's owner; `availability` demands
 * a row of a file that is missing, and anyone holding the file answers it; `file` challenges a whole file that
 * cannot be fetched or does not hold its rows, and the owner judges it.
 */
export type ChallengeKind =
  | 'label'
  | 'format'
  | 'duplicate'
  | 'training copy'
  | 'test copy'
  | 'availability'
  | 'file';

/** The kinds of challenge the model's owner judges (and so may uphold or reject). */
export const OWNER_JUDGED_KINDS: readonly ChallengeKind[] = ['label', 'file'];

/**
 * The sidebar's row number for the whole file (the API's `null` row): a file challenge is selected, shown and
 * sent like a row.
 */
export const WHOLE_FILE = -1;

/** `components.schemas.RowVerdict` */
export interface IRowVerdict {
  row: number;
  label: unknown;
  /** the current model's label (null for a row with a fault) */
  predicted: unknown;
  /** the objective fault the contract would judge, e.g. `out of bounds`, `duplicate`, `training copy` */
  fault: string | null;
  /** what the row copies, e.g. `submission 3 row 7` */
  copy_of: string | null;
  /** the kind of challenge verification plans for the row */
  challenge: ChallengeKind | null;
  verdict: Verdict;
  /** the latest challenge raised on this row, if any */
  challenge_id?: number | null;
}

/** One challenge of a verification's plan. */
export interface IPlannedChallenge {
  /** null: the whole file */
  row: number | null;
  kind: ChallengeKind;
}

/** The verification report inside `ContributionDetail`. */
export interface IVerificationReport {
  cid_ok: boolean;
  count_ok: boolean;
  root_ok: boolean;
  schema_ok: boolean;
  problem: string;
  rows: IRowVerdict[];
  /** the challenges worth making (a missing file: a file challenge, or once it ended, one availability demand) */
  plan: IPlannedChallenge[];
  /** the rows of the plan (null: the whole file) */
  suggested: (number | null)[];
}

/** `GET /contributions/{submissionId}` */
export interface IContributionDetail {
  contribution: IContribution;
  report: IVerificationReport;
}

/** `POST /contributions` body: a CSV or Parquet path under the server's root directory. */
export interface IContributeRequest {
  model: number;
  path: string;
  account?: AccountName;
}

export type ChallengeStatus = 'pending' | 'upheld' | 'rejected' | 'expired' | 'answered';

/** `components.schemas.Challenge` */
export interface IChallenge {
  id: number;
  model: number;
  submission: number;
  /** null: a challenge of the whole file */
  row: number | null;
  kind: ChallengeKind;
  status: ChallengeStatus | string;
  challenger: string;
  /** the time-out: a label must be judged, a demanded row produced, before it; after it anyone may expire */
  resolve_by: number;
  /** the challenged row's decoded values (none for availability and file challenges) */
  values?: Record<string, unknown>;
}

/** Query parameters of `GET /challenges`. */
export interface IChallengeQuery {
  model?: number;
  status?: ChallengeStatus | 'all';
}

/** `GET /challenges` */
export interface IChallengeList {
  challenges: IChallenge[];
}

/**
 * `POST /challenges` body; `rows` omitted (or null): the rows of the verification's plan. Each row is challenged
 * with the kind the plan says (a row outside the plan: label, or availability for a file that cannot be used);
 * a null row challenges the whole file.
 */
export interface IChallengeRequest {
  submission: number;
  rows?: (number | null)[] | null;
  account?: AccountName;
}

/** `POST /challenges` answer: the ids of the new challenges. */
export interface IChallengeCreated {
  challenges: number[];
}

export type ResolveVerdict = 'uphold' | 'reject' | 'auto';

/** `POST /challenges/{challengeId}/resolve` body */
export interface IResolveRequest {
  verdict: ResolveVerdict;
  account?: AccountName;
}

/** `POST /challenges/{challengeId}/resolve` answer */
export interface IResolveResult {
  challenge: number;
  upheld: boolean;
}

/** `POST /challenges/{challengeId}/answer` and `.../expire` body */
export interface IChallengeActionRequest {
  account?: AccountName;
}

/** `POST /challenges/{challengeId}/answer` answer */
export interface IAnswerResult {
  challenge: number;
  status: ChallengeStatus | string;
}

/** `POST /challenges/{challengeId}/expire` answer */
export interface IExpireResult {
  challenge: number;
  status: ChallengeStatus | string;
  /** an unanswered availability challenge forfeited its batch */
  forfeited: boolean;
}

/** `GET /account?account=` */
export interface IAccountInfo {
  name: string;
  address: string;
  balance_wei: Wei;
  locked_wei: Wei;
  claimable_wei: Wei;
}

/** `POST /claims` answer */
export interface IClaimResult {
  withdrawn_wei: Wei;
}

/** `POST /time/advance` body: how far to move the chain's clock (`90s`, `10m`, `1h30m`, `2d`; at most 365 days). */
export interface ITimeAdvanceRequest {
  duration: string;
  account?: AccountName;
}

/** `POST /time/advance` answer: the seconds moved, and the timestamp of the block mined at the new time. */
export interface ITimeAdvanceResult {
  advanced_seconds: number;
  chain_time: number;
}

/**
 * One `data:` line of `GET /events`: a marketplace event as JSON. The document does not specify its
 * fields; the server sends `{name, block, args}`.
 */
export type MarketEvent = Record<string, unknown>;

/**
 * The marketplace contract's events. The server may send each as a named server-sent event
 * (`event: <name>`), which `EventSource.onmessage` does not see: listen to these names too.
 */
export const MARKET_EVENT_NAMES = [
  'ChallengeAnswered',
  'ChallengeCommitted',
  'ChallengeExpired',
  'ChallengeResolved',
  'LinearModelPublished',
  'LinearModelUpdated',
  'ModelDataCommitted',
  'ModelPublished',
  'RewardPoolFunded',
  'RewardPoolWithdrawn',
  'RowAdded',
  'RowChallenged',
  'RowRejected',
  'SubmissionAdded',
  'SubmissionClaimed',
  'SubmissionForfeited',
  'TestSetRevealed',
  'VersionPublished',
  'Withdrawn'
] as const;

/** The ids of the commands this extension adds (palette category "colearn"). */
export namespace CommandIDs {
  export const open = 'colearn:open';
  export const refresh = 'colearn:refresh';
  export const contribute = 'colearn:contribute-file';
  export const challengeSuggested = 'colearn:challenge-suggested';
  export const resolveAuto = 'colearn:resolve-auto';
  export const answerSelected = 'colearn:answer-challenge';
  export const expireSelected = 'colearn:expire-challenge';
  export const claim = 'colearn:claim';
  export const retrain = 'colearn:retrain';
  export const advanceClock = 'colearn:advance-clock';
}
