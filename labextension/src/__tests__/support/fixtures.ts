import {
  IAccountInfo,
  IChallenge,
  IContribution,
  IContributionDetail,
  IModelDetail,
  IModelSummary,
  IStatus
} from '../../tokens';

export const status: IStatus = {
  version: '0.1.0',
  chain: { devnet: true, url: 'http://127.0.0.1:8545', chain_id: 31337 },
  marketplace: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  account: { name: 'owner', address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' },
  storage: 'embedded',
  pending_verifications: 1
};

/** A server on another chain (hardhat, chain 1337) that acts as no account: it reads, and refuses actions. */
export const readOnlyStatus: IStatus = {
  ...status,
  chain: { devnet: false, url: 'http://127.0.0.1:8546', chain_id: 1337 },
  account: {
    name: 'nobody',
    address: '0x0000000000000000000000000000000000000000',
    read_only: true,
    why: 'this server acts as no account on chain 1337: set c.ColearnSettings.account to a keystore'
  },
  time_travel: true,
  pending_verifications: 0
};

/** A server on chain 1337 acting as the keystore "ada" (kept in the colearn home). */
export const keystoreStatus: IStatus = {
  ...readOnlyStatus,
  account: { name: 'ada', address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', read_only: false, why: '' }
};

export function modelSummary(patch: Partial<IModelSummary> = {}): IModelSummary {
  return {
    id: 1,
    name: 'iris',
    owner: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    accuracy: 0.9667,
    versions: 2,
    rows_accepted: 120,
    rows_pending: 10,
    rows_rejected: 0,
    deposit_wei: '10000000000000000',
    reward_wei: '2000000000000000',
    bond_wei: '5000000000000000',
    window_s: 3600,
    timeout_s: 86400,
    reward_pool_wei: '1000000000000000000',
    ...patch
  };
}

export const models: IModelSummary[] = [
  modelSummary(),
  modelSummary({ id: 2, name: 'wine', accuracy: 0.8, rows_accepted: 50, rows_pending: 0 }),
  modelSummary({ id: 3, name: 'Digits', accuracy: null, rows_accepted: 300, rows_pending: 25 })
];

export const modelDetail: IModelDetail = {
  model: models[0],
  versions: [
    { version: 1, parent: 0, accuracy: 0.9, rows_accepted: 100, published_at: 1700000000, model_cid: 'bafy1' },
    {
      version: 2,
      parent: 1,
      accuracy: 0.9667,
      rows_accepted: 120,
      published_at: 1700003600,
      model_cid: 'bafy2',
      measured_accuracy: 0.9,
      check: 'disputed'
    }
  ]
};

export const contribution: IContribution = {
  id: 7,
  model: 1,
  contributor: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  rows: 4,
  data_cid: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
  window_ends_at: 1700007200,
  open_challenges: 0,
  rows_rejected: 0,
  claimed: false,
  forfeited: false
};

/** Submission 7: row 1 has a label the model disagrees with, row 3 copies row 2 of submission 5. */
export const contributionDetail: IContributionDetail = {
  contribution,
  report: {
    cid_ok: true,
    count_ok: true,
    root_ok: true,
    schema_ok: false,
    problem: '',
    rows: [
      { row: 0, label: 'setosa', predicted: 'setosa', fault: null, copy_of: null, challenge: null, verdict: 'ok', challenge_id: null },
      { row: 1, label: 'virginica', predicted: 'setosa', fault: null, copy_of: null, challenge: 'label', verdict: 'suspicious', challenge_id: null },
      { row: 2, label: 'versicolor', predicted: 'versicolor', fault: null, copy_of: null, challenge: null, verdict: 'ok', challenge_id: null },
      { row: 3, label: 'setosa', predicted: null, fault: 'duplicate', copy_of: 'submission 5 row 2', challenge: 'duplicate', verdict: 'bad', challenge_id: null }
    ],
    plan: [
      { row: 1, kind: 'label' },
      { row: 3, kind: 'duplicate' }
    ],
    suggested: [1, 3]
  }
};

/** Submission 8, whose file cannot be fetched: no rows, and a plan that demands its last row. */
export const missingFile: IContributionDetail = {
  contribution: { ...contribution, id: 8, rows: 5 },
  report: {
    cid_ok: false,
    count_ok: false,
    root_ok: false,
    schema_ok: false,
    problem: 'the file bafkrei… cannot be fetched',
    rows: [],
    plan: [{ row: 4, kind: 'availability' }],
    suggested: [4]
  }
};

/** A pending label challenge of row 1 of submission 7. */
export const challenge: IChallenge = {
  id: 11,
  model: 1,
  submission: 7,
  row: 1,
  kind: 'label',
  status: 'pending',
  challenger: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  resolve_by: 1700090000
};

/** A pending availability challenge (a demand) of row 4 of submission 8. */
export const demand: IChallenge = {
  ...challenge,
  id: 12,
  submission: 8,
  row: 4,
  kind: 'availability'
};

/** A label challenge past its time-out (`now` is 1700000000 in the tests). */
export const overdue: IChallenge = {
  ...challenge,
  id: 13,
  row: 0,
  resolve_by: 1699990000
};

export const account: IAccountInfo = {
  name: 'owner',
  address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  balance_wei: '9998123400000000000000',
  locked_wei: '40000000000000000',
  claimable_wei: '8000000000000000'
};

export class APIError extends Error {}

type Handler = (endpoint: string, init: RequestInit) => unknown;

/**
 * Route the mocked `requestAPI` by "METHOD path" (the query string stripped); a handler that throws
 * simulates an API error. Unrouted calls fail the test loudly.
 */
export function routeAPI(
  mock: jest.Mock,
  routes: Record<string, unknown | Handler>
): void {
  mock.mockImplementation(async (endpoint: string, init: RequestInit = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const key = `${method} ${endpoint.split('?')[0]}`;
    if (!(key in routes)) {
      throw new APIError(`unrouted ${key}`);
    }
    const route = routes[key];
    const value = typeof route === 'function' ? (route as Handler)(endpoint, init) : route;
    return JSON.parse(JSON.stringify(value));
  });
}

/** The default routes: a marketplace with three models, one pending submission, one challenge. */
export function defaultRoutes(): Record<string, unknown | Handler> {
  return {
    'GET status': status,
    'GET models': { total: models.length, offset: 0, limit: 50, models },
    'GET models/1': modelDetail,
    'GET contributions': { contributions: [contribution, missingFile.contribution] },
    'GET contributions/7': contributionDetail,
    'GET contributions/8': missingFile,
    'GET challenges': { challenges: [] },
    'GET account': account
  };
}

/** Route the mocked `requestAPI` to the default routes, with `patch` replacing or adding routes. */
export function routeDefaults(
  mock: jest.Mock,
  patch: Record<string, unknown | Handler> = {}
): void {
  routeAPI(mock, { ...defaultRoutes(), ...patch });
}

/** A route that fails as the API does, with `message`. */
export function refuse(message: string): Handler {
  return () => {
    throw new APIError(message);
  };
}

/** Calls of the mock as [endpoint, method, parsed body]. */
export function calls(mock: jest.Mock): [string, string, unknown][] {
  return mock.mock.calls.map(([endpoint, init]: [string, RequestInit | undefined]) => [
    endpoint,
    (init?.method ?? 'GET').toUpperCase(),
    init?.body ? JSON.parse(String(init.body)) : undefined
  ]);
}
