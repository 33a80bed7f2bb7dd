jest.mock('../request', () => ({
  requestAPI: jest.fn(),
  eventsURL: jest.fn(() => 'http://localhost:8888/colearn/api/events?token=secret')
}));

import { ColearnModel } from '../model';
import { requestAPI } from '../request';
import { WHOLE_FILE } from '../tokens';
import { FakeEventSource, newModel, withClosedStream } from './support/events';
import {
  calls,
  challenge,
  contributionDetail,
  demand,
  missingFile,
  models,
  keystoreStatus,
  modelDetail,
  overdue,
  readOnlyStatus,
  refuse,
  routeAPI,
  routeDefaults,
  status
} from './support/fixtures';

const mockAPI = requestAPI as jest.Mock;

beforeEach(() => {
  mockAPI.mockReset();
  routeDefaults(mockAPI);
});

describe('marketplace', () => {
  it('asks GET /models with search, sort, order and limit', async () => {
    const model = newModel();
    await model.refreshModels();
    expect(calls(mockAPI)).toEqual([['models?sort=id&order=asc&limit=50', 'GET', undefined]]);
    expect(model.market.models).toHaveLength(3);
    expect(model.market.total).toBe(3);

    mockAPI.mockClear();
    await model.setSearch('iris');
    await model.setSort('accuracy', 'desc');
    expect(calls(mockAPI).map(c => c[0])).toEqual([
      'models?search=iris&sort=id&order=asc&limit=50',
      'models?search=iris&sort=accuracy&order=desc&limit=50'
    ]);
    await model.setOrder('asc');
    expect(mockAPI.mock.calls[2][0]).toBe('models?search=iris&sort=accuracy&order=asc&limit=50');
  });

  it('debounces typing in the search box', async () => {
    jest.useFakeTimers();
    try {
      const model = new ColearnModel({ searchDelay: 200 });
      const done = [model.setSearch('i'), model.setSearch('ir'), model.setSearch('iris')];
      expect(model.market.search).toBe('iris');
      expect(mockAPI).not.toHaveBeenCalled();
      jest.advanceTimersByTime(200);
      jest.useRealTimers();
      await Promise.all(done);
      expect(calls(mockAPI).map(c => c[0])).toEqual(['models?search=iris&sort=id&order=asc&limit=50']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('lists the page filtered and sorted like the server', async () => {
    const model = newModel();
    await model.setSort('accuracy', 'desc');
    expect(model.visibleModels.map(m => m.id)).toEqual([1, 2, 3]);
  });

  it('ignores an answer that arrives after a newer one', async () => {
    const model = newModel();
    let releaseOld: () => void = () => undefined;
    mockAPI.mockImplementationOnce(
      () =>
        new Promise(resolve => {
          releaseOld = () => resolve({ total: 1, offset: 0, limit: 50, models: [models[2]] });
        })
    );
    const old = model.refreshModels();
    await model.setSearch('iris');
    releaseOld();
    await old;
    expect(model.market.models.map(m => m.id)).toEqual([1, 2, 3]);
  });

  it('shows the API error message', async () => {
    routeAPI(mockAPI, {
      'GET models': refuse('sort must be one of id, name, accuracy, rows_accepted, rows_pending')
    });
    const model = newModel();
    await model.refreshModels();
    expect(model.market.error).toBe('sort must be one of id, name, accuracy, rows_accepted, rows_pending');
    expect(model.market.loading).toBe(false);
  });

  it('opens a model card with GET /models/{id}', async () => {
    const model = newModel();
    await model.selectModel(1);
    expect(mockAPI).toHaveBeenCalledWith('models/1');
    expect(model.market.detail?.versions).toHaveLength(2);
    await model.selectModel(null);
    expect(model.market.detail).toBeNull();
  });

  it('contributes a file with POST /contributions {model, path, account}', async () => {
    const created = { ...contributionDetail.contribution, id: 8 };
    routeDefaults(mockAPI, { 'POST contributions': created });
    const model = newModel();
    const result = await model.contribute(1, ' data/new.csv ', 'bob');
    expect(result?.id).toBe(8);
    expect(calls(mockAPI)[0]).toEqual([
      'contributions',
      'POST',
      { model: 1, path: 'data/new.csv', account: 'bob' }
    ]);
    expect(model.market.message).toBe('Submission #8: 4 rows contributed to model #1');
  });

  it('shows why a contribution was refused', async () => {
    routeDefaults(mockAPI, { 'POST contributions': refuse('column "sepal length (cm)" is missing') });
    const model = newModel();
    expect(await model.contribute(1, 'bad.csv')).toBeNull();
    expect(calls(mockAPI)[0][2]).toEqual({ model: 1, path: 'bad.csv' });
    expect(model.market.actionError).toBe('column "sepal length (cm)" is missing');
  });
});

describe('verification queue', () => {
  it('lists pending contributions and pending challenges', async () => {
    routeDefaults(mockAPI, { 'GET challenges': { challenges: [challenge] } });
    const model = newModel();
    await model.refreshQueue();
    expect(mockAPI).toHaveBeenCalledWith('contributions?state=pending');
    expect(mockAPI).toHaveBeenCalledWith('challenges?status=pending');
    expect(model.queue.contributions.map(c => c.id)).toEqual([7, 8]);
    expect(model.queue.challenges.map(c => c.id)).toEqual([11]);
    expect(model.queue.challenges[0].kind).toBe('label');
  });

  it('verifies a submission and pre-selects the suggested rows', async () => {
    const model = newModel();
    await model.selectContribution(7);
    expect(mockAPI).toHaveBeenCalledWith('contributions/7');
    expect(model.queue.selectedRows).toEqual([1, 3]);
    model.toggleRow(3);
    model.toggleRow(0, true);
    expect(model.queue.selectedRows).toEqual([0, 1]);
    // a refresh of the same submission keeps the user's selection
    await model.refreshContributionDetail();
    expect(model.queue.selectedRows).toEqual([0, 1]);
    model.selectSuggestedRows();
    expect(model.queue.selectedRows).toEqual([1, 3]);
  });

  it('challenges the selected rows with POST /challenges as "verifier"', async () => {
    routeDefaults(mockAPI, { 'POST challenges': { challenges: [11, 12] } });
    const model = newModel();
    await model.selectContribution(7);
    model.toggleRow(3, false);
    mockAPI.mockClear();
    expect(await model.challenge()).toEqual([11, 12]);
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 7, rows: [1], account: 'verifier' }]);
    expect(model.queue.message).toBe('Opened challenges #11 (label), #12');
    // the queue, the report and the challenges are asked for again
    const endpoints = calls(mockAPI).map(c => c[0]);
    expect(endpoints).toEqual(
      expect.arrayContaining(['contributions?state=pending', 'challenges?status=pending', 'contributions/7', 'status'])
    );
  });

  it('challenges as another account and the suggested rows from the command', async () => {
    routeDefaults(mockAPI, { 'POST challenges': { challenges: [13] } });
    const model = newModel();
    await model.selectContribution(7);
    model.setSelectedRows([]);
    model.setVerifier('carol');
    mockAPI.mockClear();
    await model.challengeSuggested();
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 7, rows: [1, 3], account: 'carol' }]);
  });

  it('challenges a whole file as a null row', async () => {
    routeDefaults(mockAPI, {
      'GET contributions/7': {
        ...contributionDetail,
        report: { ...missingFile.report, plan: [{ row: null, kind: 'file' }], suggested: [null] }
      },
      'POST challenges': { challenges: [21] }
    });
    const model = newModel();
    await model.selectContribution(7);
    expect(model.queue.selectedRows).toEqual([WHOLE_FILE]);
    mockAPI.mockClear();
    expect(await model.challenge()).toEqual([21]);
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 7, rows: [null], account: 'verifier' }]);
    expect(model.queue.message).toBe('Opened challenge #21 (file)');
  });

  it('refuses to challenge nothing, without asking the server', async () => {
    const model = newModel();
    expect(await model.challenge()).toBeNull();
    expect(model.queue.actionError).toBe('Open a submission first.');
    await model.selectContribution(7);
    model.setSelectedRows([]);
    mockAPI.mockClear();
    expect(await model.challenge()).toBeNull();
    expect(model.queue.actionError).toBe('Select at least one row to challenge.');
    expect(mockAPI).not.toHaveBeenCalled();
  });

  it('shows a refused challenge', async () => {
    routeDefaults(mockAPI, { 'POST challenges': refuse('the challenge window of submission 7 is closed') });
    const model = newModel();
    await model.selectContribution(7);
    expect(await model.challenge()).toBeNull();
    expect(model.queue.actionError).toBe('the challenge window of submission 7 is closed');
    expect(model.queue.busy).toBe(false);
  });

  it('resolves a challenge as the account from /status', async () => {
    routeDefaults(mockAPI, {
      'GET challenges': { challenges: [challenge] },
      'POST challenges/11/resolve': { challenge: 11, upheld: true }
    });
    const model = newModel();
    await model.refreshStatus();
    await model.refreshChallenges();
    expect(model.queue.resolver).toBe('owner');
    mockAPI.mockClear();
    await model.resolve(11, 'uphold');
    expect(calls(mockAPI)[0]).toEqual(['challenges/11/resolve', 'POST', { verdict: 'uphold', account: 'owner' }]);
    expect(model.queue.message).toBe('Challenge #11 upheld: the row is rejected');

    model.selectChallenge(11);
    mockAPI.mockClear();
    await model.resolveSelected();
    expect(calls(mockAPI)[0]).toEqual(['challenges/11/resolve', 'POST', { verdict: 'auto', account: 'owner' }]);
  });

  it('answers an availability challenge with POST /challenges/{id}/answer', async () => {
    routeDefaults(mockAPI, {
      'GET challenges': { challenges: [challenge, demand] },
      'POST challenges/12/answer': { challenge: 12, status: 'answered' }
    });
    const model = newModel();
    await model.refreshStatus();
    await model.refreshChallenges();
    mockAPI.mockClear();
    expect(await model.answer(12)).toEqual({ challenge: 12, status: 'answered' });
    expect(calls(mockAPI)[0]).toEqual(['challenges/12/answer', 'POST', { account: 'owner' }]);
    expect(model.queue.message).toBe('Challenge #12 answered: the demanded row is on chain');
    expect(calls(mockAPI).map(c => c[0])).toEqual(expect.arrayContaining(['challenges?status=pending', 'status']));

    model.setResolver('alice');
    model.selectChallenge(12);
    mockAPI.mockClear();
    await model.answerSelected();
    expect(calls(mockAPI)[0]).toEqual(['challenges/12/answer', 'POST', { account: 'alice' }]);
  });

  it('shows why a challenge cannot be answered', async () => {
    routeDefaults(mockAPI, {
      'POST challenges/12/answer': refuse('the file of submission 8 is not in this server\'s storage')
    });
    const model = newModel();
    expect(await model.answer(12)).toBeNull();
    expect(model.queue.actionError).toBe("the file of submission 8 is not in this server's storage");
  });

  it('expires a challenge past its time-out with POST /challenges/{id}/expire', async () => {
    routeDefaults(mockAPI, {
      'GET challenges': { challenges: [overdue, demand] },
      'POST challenges/13/expire': { challenge: 13, status: 'expired', forfeited: false },
      'POST challenges/12/expire': { challenge: 12, status: 'expired', forfeited: true }
    });
    const model = newModel();
    await model.refreshChallenges();
    mockAPI.mockClear();
    await model.expire(13);
    expect(calls(mockAPI)[0]).toEqual(['challenges/13/expire', 'POST', {}]);
    expect(model.queue.message).toBe('Challenge #13 expired: the row stands');
    model.selectChallenge(12);
    await model.expireSelected();
    expect(model.queue.message).toBe('Challenge #12 expired: the batch is forfeited');
  });

  it('resolves only label challenges from the command', async () => {
    routeDefaults(mockAPI, { 'GET challenges': { challenges: [challenge, demand] } });
    const model = newModel();
    await model.refreshChallenges();
    model.selectChallenge(12);
    mockAPI.mockClear();
    expect(await model.resolveSelected('auto')).toBeNull();
    expect(model.queue.actionError).toBe(
      'Challenge #12 is of kind availability: the owner judges label challenges only.'
    );
    expect(mockAPI).not.toHaveBeenCalled();
  });

  it('asks to select a challenge before resolving the selected one', async () => {
    const model = newModel();
    expect(await model.resolveSelected('auto')).toBeNull();
    expect(model.queue.actionError).toBe('Select a challenge first.');
    expect(mockAPI).not.toHaveBeenCalled();
  });
});

describe('account', () => {
  it('follows the account of /status until another is typed', async () => {
    const model = newModel();
    await model.refreshStatus();
    expect(model.account.name).toBe('owner');
    await model.refreshAccount();
    expect(mockAPI).toHaveBeenCalledWith('account?account=owner');
    expect(model.account.info?.claimable_wei).toBe('8000000000000000');
    model.setAccountName('bob');
    await model.refreshStatus();
    expect(model.account.name).toBe('bob');
  });

  it('does not ask for an invalid account name', async () => {
    const model = newModel();
    model.setAccountName('not valid');
    await model.refreshAccount();
    expect(model.account.error).toContain('is not an account name');
    expect(mockAPI).not.toHaveBeenCalled();
  });

  it('claims with POST /claims {account} and says what was withdrawn', async () => {
    routeDefaults(mockAPI, { 'POST claims': { withdrawn_wei: '48000000000000000' } });
    const model = newModel();
    model.setAccountName('bob');
    const result = await model.claim();
    expect(result?.withdrawn_wei).toBe('48000000000000000');
    expect(calls(mockAPI)[0]).toEqual(['claims', 'POST', { account: 'bob' }]);
    expect(calls(mockAPI)[1][0]).toBe('account?account=bob');
    expect(model.account.message).toBe('Withdrew 0.048 ETH');
  });

  it('shows a refused claim', async () => {
    routeDefaults(mockAPI, { 'POST claims': refuse('chain unreachable') });
    const model = newModel();
    await model.claim();
    expect(calls(mockAPI)[0]).toEqual(['claims', 'POST', {}]);
    expect(model.account.actionError).toBe('chain unreachable');
  });
});

describe('events', () => {
  it('opens the event stream with the token and refreshes on events', async () => {
    const model = newModel();
    model.connectEvents();
    const source = FakeEventSource.last as FakeEventSource;
    expect(source.url).toBe('http://localhost:8888/colearn/api/events?token=secret');
    source.onopen?.({} as Event);
    expect(model.live).toBe(true);

    const seen: unknown[] = [];
    model.eventReceived.connect((_, e) => seen.push(e));
    source.emit({ event: 'ChallengeOpened', block: 12 });
    source.emit({ event: 'ChallengeOpened', block: 12 });
    expect(seen).toHaveLength(2);
    await new Promise(resolve => setTimeout(resolve, 10));
    // one refresh for the burst: status, models, queue, challenges, account
    const endpoints = calls(mockAPI).map(c => c[0]);
    expect(endpoints.filter(e => e === 'status')).toHaveLength(1);
    expect(endpoints).toEqual(
      expect.arrayContaining(['status', 'contributions?state=pending', 'challenges?status=pending', 'account'])
    );
    expect(endpoints.some(e => e.startsWith('models?'))).toBe(true);

    model.dispose();
    expect(source.closed).toBe(true);
    expect(model.live).toBe(false);
  });

  it('also hears named events (`event: RowChallenged`)', async () => {
    const model = newModel();
    model.connectEvents();
    const source = FakeEventSource.last as FakeEventSource;
    const seen: unknown[] = [];
    model.eventReceived.connect((_, e) => seen.push(e));
    source.emitNamed('RowChallenged', { name: 'RowChallenged', block: 9, args: { challenge_id: 1 } });
    expect(seen).toEqual([{ name: 'RowChallenged', block: 9, args: { challenge_id: 1 } }]);
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(calls(mockAPI).map(c => c[0])).toContain('challenges?status=pending');
    model.dispose();
  });

  it('falls back to the login cookie when the stream with the token is refused', () => {
    withClosedStream(() => {
      jest.advanceTimersByTime(2000);
      const { eventsURL } = jest.requireMock('../request');
      expect(eventsURL.mock.calls.slice(-2)).toEqual([
        [undefined, true],
        [undefined, false]
      ]);
    });
  });

  it('reconnects when the stream is closed', () => {
    withClosedStream(first => {
      expect(first.closed).toBe(true);
      jest.advanceTimersByTime(2000);
      expect(FakeEventSource.last).not.toBe(first);
    });
  });
});

describe('status', () => {
  it('keeps the status and its error', async () => {
    const model = newModel();
    await model.refreshStatus();
    expect(model.status).toEqual(status);
    routeAPI(mockAPI, { 'GET status': refuse('chain unreachable: http://127.0.0.1:8545') });
    await model.refreshStatus();
    expect(model.statusError).toBe('chain unreachable: http://127.0.0.1:8545');
  });
});

describe('the chain\'s clock', () => {
  it('follows the chain ahead of the browser (time travel), never behind it (an idle devnet)', async () => {
    const model = newModel(); // the browser says 1700000000
    routeDefaults(mockAPI, { 'GET status': { ...status, chain_time: 1699990000 } }); // the last block is old
    await model.refreshStatus();
    expect(model.now()).toBe(1700000000);
    routeDefaults(mockAPI, { 'GET status': { ...status, chain_time: 1700007200 } });
    await model.refreshStatus();
    expect(model.now()).toBe(1700007200);
    routeDefaults(mockAPI, { 'GET status': { ...status, chain_time: 1700003600 } }); // a block before the jump
    await model.refreshStatus();
    expect(model.now()).toBe(1700007200);
  });

  it('moves the clock only where the status says it can, and learns the new time from the answer', async () => {
    const model = newModel();
    await model.refreshStatus();
    expect(model.timeTravel).toBe(false);
    routeDefaults(mockAPI, {
      'GET status': { ...status, time_travel: true },
      'POST time/advance': { advanced_seconds: 5400, chain_time: 1700005400 }
    });
    await model.refreshStatus();
    expect(model.timeTravel).toBe(true);
    model.setClockDuration('1h30m');
    mockAPI.mockClear();
    const result = await model.advanceClock();
    expect(result).toEqual({ advanced_seconds: 5400, chain_time: 1700005400 });
    expect(calls(mockAPI)[0]).toEqual(['time/advance', 'POST', { duration: '1h30m' }]);
    expect(model.now()).toBe(1700005400);
    expect(model.clock).toMatchObject({ busy: false, error: '', message: expect.stringContaining('(+1h 30m)') });
    routeDefaults(mockAPI, { 'GET status': { ...status, time_travel: true, error: 'chain unreachable' } });
    await model.refreshStatus();
    expect(model.timeTravel).toBe(false);
  });
});

describe('who acts', () => {
  it('on a read-only server: no account filled in, actions blocked with why until one is named', async () => {
    routeDefaults(mockAPI, { 'GET status': readOnlyStatus, 'POST claims': { withdrawn_wei: '0' } });
    const model = newModel();
    await model.refreshAll();
    expect(model.readOnly).toBe(true);
    expect(model.defaultAccount).toBe('');
    // the fields stay empty: "nobody" is no account to act as, and the server's own balance is nobody's
    expect(model.account.name).toBe('');
    expect(model.account.info).toBeNull();
    expect(model.queue.resolver).toBe('');
    expect(model.queue.verifier).toBe('');
    for (const field of ['challenge', 'resolve', 'account'] as const) {
      expect(model.blockedReason(field)).toBe(readOnlyStatus.account.why);
      expect(model.actingNote(field)).toBe('');
    }
    // naming a keystore in the account box is the explicit choice: every action runs as it, and says so
    model.setAccountName('bea');
    for (const field of ['challenge', 'resolve', 'account'] as const) {
      expect(model.actingAccount(field)).toBe('bea');
      expect(model.blockedReason(field)).toBe('');
      expect(model.actingNote(field)).toBe('acting as bea; this server acts as no account');
    }
    // a field of its own wins
    model.setVerifier('cy');
    expect(model.actingAccount('challenge')).toBe('cy');
    mockAPI.mockClear();
    await model.claim();
    expect(calls(mockAPI)[0]).toEqual(['claims', 'POST', { account: 'bea' }]);
  });

  it('on the devnet the owner\'s sidebar challenges as "verifier"; on another chain as the server\'s account', async () => {
    const model = newModel();
    await model.refreshStatus();
    expect(model.queue.verifier).toBe('verifier');
    expect(model.actingNote('challenge')).toBe("acting as verifier, not this server's account owner");
    expect(model.actingNote('resolve')).toBe('');
    model.setResolver('alice');
    expect(model.actingNote('resolve')).toBe("acting as alice, not this server's account owner");

    routeDefaults(mockAPI, { 'GET status': keystoreStatus, 'POST challenges': { challenges: [5] } });
    const other = newModel();
    await other.refreshStatus();
    expect(other.queue.verifier).toBe('');
    expect(other.queue.resolver).toBe('ada');
    expect(other.account.name).toBe('ada');
    expect(other.actingNote('challenge')).toBe('');
    expect(other.blockedReason('challenge')).toBe('');
    await other.selectContribution(7);
    mockAPI.mockClear();
    await other.challenge();
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 7, rows: [1, 3] }]);
  });

  it('retrains as the server\'s account, or the account box\'s, and shows the new version', async () => {
    const retrained = {
      ...modelDetail,
      versions: [...modelDetail.versions, { ...modelDetail.versions[1], version: 3, accuracy: 0.975 }]
    };
    routeDefaults(mockAPI, { 'POST models/1/versions': retrained });
    const model = newModel();
    await model.refreshAll();
    await model.selectModel(1);
    expect(model.offersRetrain(modelDetail.model.owner)).toBe(true); // the owner's own model
    expect(model.offersRetrain('0x70997970C51812dc3A010C7d01b50e0d17dc79C8')).toBe(false);
    mockAPI.mockClear();
    expect(await model.retrain(1)).toEqual(retrained);
    expect(calls(mockAPI)[0]).toEqual(['models/1/versions', 'POST', {}]);
    expect(model.market.message).toBe('Published version 3 of model #1: 97.5%');
    expect(model.market.detail?.versions).toHaveLength(3);
    model.setAccountName('alice');
    mockAPI.mockClear();
    await model.retrain(1);
    expect(calls(mockAPI)[0]).toEqual(['models/1/versions', 'POST', { account: 'alice' }]);
  });

  it('offers Retrain on a read-only server only to say why not', async () => {
    routeDefaults(mockAPI, { 'GET status': readOnlyStatus });
    const model = newModel();
    await model.refreshStatus();
    expect(model.offersRetrain(modelDetail.model.owner)).toBe(true);
    expect(model.blockedReason('account')).toContain('acts as no account');
  });
});

describe('the event stream\'s error', () => {
  it('keeps the message of `event: error` until the stream or the chain is back', async () => {
    const model = newModel();
    model.connectEvents();
    const source = FakeEventSource.last as FakeEventSource;
    source.readyState = 1;
    source.onopen?.({} as Event);
    expect(model.live).toBe(true);
    // the server's named error event reaches onerror as a MessageEvent with data; the stream stays open
    const message = 'the devnet cannot start: anvil is missing. Install it or set COLEARN_ANVIL';
    source.onerror?.({ data: JSON.stringify({ message, code: 'DevnetError' }) } as unknown as Event);
    expect(model.live).toBe(false);
    expect(model.streamError).toBe(message);
    expect(source.closed).toBe(false);
    // a connection error (no data) keeps the message
    source.onerror?.({} as Event);
    expect(model.streamError).toBe(message);
    // /status still says the chain is unreachable: kept
    routeDefaults(mockAPI, { 'GET status': { ...status, error: message } });
    await model.refreshStatus();
    expect(model.streamError).toBe(message);
    // the chain answers again: the message goes, and the open stream is live again
    routeDefaults(mockAPI);
    await model.refreshStatus();
    expect(model.streamError).toBe('');
    expect(model.live).toBe(true);
    model.dispose();
  });

  it('forgets the message when events flow again', () => {
    const model = newModel();
    model.connectEvents();
    const source = FakeEventSource.last as FakeEventSource;
    source.onerror?.({ data: JSON.stringify({ message: 'no node', code: 'ChainError' }) } as unknown as Event);
    expect(model.streamError).toBe('no node');
    source.emit({ name: 'SubmissionAdded', block: 3, args: {} });
    expect(model.streamError).toBe('');
    expect(model.live).toBe(true);
    model.dispose();
  });
});
