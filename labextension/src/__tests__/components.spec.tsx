jest.mock('../request', () => ({ requestAPI: jest.fn(), eventsURL: jest.fn(() => '') }));

import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import * as React from 'react';

import { AccuracyChart } from '../components/AccuracyChart';
import { Sidebar, StatusItem } from '../components/Sidebar';
import { ColearnModel } from '../model';
import { requestAPI } from '../request';
import {
  calls,
  challenge,
  contributionDetail,
  defaultRoutes,
  demand,
  keystoreStatus,
  modelDetail,
  overdue,
  readOnlyStatus,
  refuse,
  routeAPI,
  status
} from './support/fixtures';
import { FakeEventSource } from './support/events';

const mockAPI = requestAPI as jest.Mock;

async function setup(routes = defaultRoutes()) {
  routeAPI(mockAPI, routes);
  const model = new ColearnModel({ searchDelay: 0, eventDelay: 0, now: () => 1700000000 });
  const onContribute = jest.fn();
  const utils = render(<Sidebar model={model} onContribute={onContribute} />);
  await act(() => model.refreshAll());
  return { model, onContribute, ...utils };
}

beforeEach(() => {
  mockAPI.mockReset();
});

describe('Sidebar', () => {
  it('shows the status and the marketplace list', async () => {
    await setup();
    expect(screen.getByTestId('colearn-sidebar-status').textContent).toBe(
      'colearn: devnet · owner · 1 to verify'
    );
    const list = screen.getByTestId('colearn-model-list');
    expect(within(list).getAllByRole('button').map(b => b.textContent)).toEqual([
      expect.stringContaining('#1 iris'),
      expect.stringContaining('#2 wine'),
      expect.stringContaining('#3 Digits')
    ]);
    expect(screen.getByTestId('colearn-model-1').textContent).toContain('96.7% · 120 accepted · 10 pending');
    expect(screen.getByTestId('colearn-tab-queue').textContent).toBe('Verify (1)');
  });

  it('searches and sorts through the API', async () => {
    await setup();
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.change(screen.getByTestId('colearn-search'), { target: { value: 'wine' } });
    });
    await waitFor(() => expect(mockAPI).toHaveBeenCalledWith('models?search=wine&sort=id&order=asc&limit=50'));
    // the server answered with every model; the list shows the match only
    expect(within(screen.getByTestId('colearn-model-list')).getAllByRole('button')).toHaveLength(1);

    await act(async () => {
      fireEvent.change(screen.getByTestId('colearn-sort'), { target: { value: 'rows_pending' } });
    });
    await act(async () => {
      fireEvent.change(screen.getByTestId('colearn-order'), { target: { value: 'desc' } });
    });
    expect(calls(mockAPI).map(c => c[0]).slice(-2)).toEqual([
      'models?search=wine&sort=rows_pending&order=asc&limit=50',
      'models?search=wine&sort=rows_pending&order=desc&limit=50'
    ]);
  });

  it('opens a model card with terms in ETH, rows and the accuracy chart', async () => {
    const { onContribute } = await setup();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-model-1'));
    });
    expect(mockAPI).toHaveBeenCalledWith('models/1');
    const card = screen.getByTestId('colearn-model-card');
    expect(within(card).getByTestId('colearn-model-deposit').textContent).toBe('0.01 ETH');
    expect(within(card).getByTestId('colearn-model-reward').textContent).toBe('0.002 ETH');
    expect(within(card).getByTestId('colearn-model-bond').textContent).toBe('0.005 ETH');
    expect(within(card).getByTestId('colearn-model-window').textContent).toBe('1h (resolve within 1d)');
    expect(within(card).getByTestId('colearn-model-rows').textContent).toBe(
      '120 accepted · 10 pending · 0 rejected'
    );
    // the owner revealed its test set: the latest version's claim did not hold on it
    const check = within(card).getByTestId('colearn-model-check');
    expect(check.textContent?.trim()).toBe('disputed');
    expect(check.className).toContain('jp-colearn-check-disputed');
    const chart = within(card).getByTestId('colearn-accuracy-chart');
    expect(chart.tagName.toLowerCase()).toBe('svg');
    expect(chart.querySelectorAll('circle')).toHaveLength(2);
    fireEvent.click(within(card).getByTestId('colearn-contribute'));
    expect(onContribute).toHaveBeenCalledWith(1);
  });

  it('shows API errors in a visible line', async () => {
    await setup({
      ...defaultRoutes(),
      'GET models': refuse('storage unreachable')
    });
    const error = screen.getByTestId('colearn-error-market');
    expect(error.textContent).toBe('storage unreachable');
    expect(error.getAttribute('role')).toBe('alert');
    expect(error.className).toContain('jp-colearn-error');
  });

  it('verifies a submission, pre-selects suggested rows and challenges the selection', async () => {
    const routes: Record<string, unknown> = {
      ...defaultRoutes(),
      'POST challenges': { challenges: [11] }
    };
    const { model } = await setup(routes);
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect(screen.getByTestId('colearn-contribution-7').textContent).toContain('4 rows');
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-contribution-7'));
    });
    expect(screen.getByTestId('colearn-verdict-summary').textContent).toBe(
      '4 rows: 2 ok, 1 suspicious, 1 bad, 2 planned challenges (1 label, 1 duplicate)'
    );
    // every row with its fault (and what it copies) and the kind of challenge the plan makes of it
    expect(screen.getByTestId('colearn-fault-3').textContent).toBe('duplicate of submission 5 row 2');
    expect(screen.getByTestId('colearn-kind-3').textContent).toBe('duplicate');
    expect(screen.getByTestId('colearn-kind-1').textContent).toBe('label');
    expect(screen.getByTestId('colearn-kind-0').textContent).toBe('');
    expect(screen.getByTestId('colearn-verdict-row-3').textContent).toContain('bad');
    const box = (row: number) => screen.getByTestId(`colearn-row-${row}`) as HTMLInputElement;
    expect([0, 1, 2, 3].map(r => box(r).checked)).toEqual([false, true, false, true]);
    fireEvent.click(box(3));
    expect(screen.getByTestId('colearn-challenge-selected').textContent).toBe('Challenge selected (1)');
    fireEvent.change(screen.getByTestId('colearn-verifier'), { target: { value: 'carol' } });

    // after the challenge, the server lists it as pending
    routes['GET challenges'] = { challenges: [challenge] };
    routes['GET contributions/7'] = {
      ...contributionDetail,
      report: {
        ...contributionDetail.report,
        rows: contributionDetail.report.rows.map(r =>
          r.row === 1 ? { ...r, verdict: 'challenged' as const, challenge_id: 11 } : r
        )
      }
    };
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-challenge-selected'));
    });
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 7, rows: [1], account: 'carol' }]);
    expect(screen.getByTestId('colearn-message-queue').textContent).toBe('Opened challenge #11 (label)');
    expect(screen.getByTestId('colearn-challenge-11').textContent).toContain('row 1 of submission #7');
    expect(screen.getByTestId('colearn-challenge-kind-11').textContent).toBe('label');
    // the report was asked for again: row 1 is challenged now, and the selection is cleared
    expect(box(1).disabled).toBe(true);
    expect(screen.getByTestId('colearn-verdict-row-1').textContent).toContain('challenged #11');
    expect(model.queue.selectedRows).toEqual([]);
  });

  it('resolves a pending challenge with Uphold / Reject / Auto', async () => {
    await setup({
      ...defaultRoutes(),
      'GET challenges': { challenges: [challenge] },
      'POST challenges/11/resolve': (_: string, init: RequestInit) => ({
        challenge: 11,
        upheld: JSON.parse(String(init.body)).verdict !== 'reject'
      })
    });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect((screen.getByTestId('colearn-resolver') as HTMLInputElement).value).toBe('owner');
    for (const verdict of ['uphold', 'reject', 'auto']) {
      mockAPI.mockClear();
      await act(async () => {
        fireEvent.click(screen.getByTestId(`colearn-resolve-${verdict}-11`));
      });
      expect(calls(mockAPI)[0]).toEqual(['challenges/11/resolve', 'POST', { verdict, account: 'owner' }]);
    }
    expect(screen.getByTestId('colearn-message-queue').textContent).toBe(
      'Challenge #11 upheld: the row is rejected'
    );
  });

  it('offers resolve buttons for label challenges only, Answer for demands and Expire past the time-out', async () => {
    await setup({
      ...defaultRoutes(),
      'GET challenges': { challenges: [challenge, demand, overdue] },
      'POST challenges/12/answer': { challenge: 12, status: 'answered' },
      'POST challenges/13/expire': { challenge: 13, status: 'expired', forfeited: false }
    });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    const buttons = (id: number) =>
      within(screen.getByTestId(`colearn-challenge-${id}`))
        .queryAllByRole('button')
        .map(b => b.textContent);
    expect(buttons(11)).toEqual(['Uphold', 'Reject', 'Auto']);
    expect(buttons(12)).toEqual(['Answer']); // a demand: anyone holding the file answers it
    expect(buttons(13)).toEqual(['Expire']); // past its time-out: nobody may judge it any more
    expect(screen.getByTestId('colearn-challenge-kind-12').textContent).toBe('availability');
    expect(screen.getByTestId('colearn-challenge-13').textContent).toContain('time-out passed');

    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-answer-12'));
    });
    expect(calls(mockAPI)[0]).toEqual(['challenges/12/answer', 'POST', { account: 'owner' }]);
    expect(screen.getByTestId('colearn-message-queue').textContent).toBe(
      'Challenge #12 answered: the demanded row is on chain'
    );
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-expire-13'));
    });
    expect(calls(mockAPI)[0]).toEqual(['challenges/13/expire', 'POST', { account: 'owner' }]);
    expect(screen.getByTestId('colearn-message-queue').textContent).toBe('Challenge #13 expired: the row stands');
  });

  it('offers to demand a row of a file that cannot be fetched', async () => {
    await setup({ ...defaultRoutes(), 'POST challenges': { challenges: [12] } });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect(screen.getByTestId('colearn-contribution-8').textContent).toContain('5 rows');
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-contribution-8'));
    });
    expect(screen.getByTestId('colearn-integrity').textContent).toBe('CID ✘ · row count ✘ · Merkle root ✘ · rows ✘');
    expect(screen.getByTestId('colearn-verdict-summary').textContent).toContain('1 planned challenge (1 availability)');
    expect(screen.queryByTestId('colearn-verdicts')).toBeNull(); // no rows to show
    expect(screen.getByTestId('colearn-demand-4').textContent).toContain('demand row 4 (availability)');
    expect((screen.getByTestId('colearn-row-4') as HTMLInputElement).checked).toBe(true);
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-challenge-selected'));
    });
    expect(calls(mockAPI)[0]).toEqual(['challenges', 'POST', { submission: 8, rows: [4], account: 'verifier' }]);
    expect(screen.getByTestId('colearn-message-queue').textContent).toBe('Opened challenge #12 (availability)');
  });

  it('shows a refused resolution', async () => {
    await setup({
      ...defaultRoutes(),
      'GET challenges': { challenges: [challenge] },
      'POST challenges/11/resolve': refuse('only the owner of model 1 can resolve its challenges')
    });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-resolve-auto-11'));
    });
    expect(screen.getByTestId('colearn-error-action').textContent).toBe(
      'only the owner of model 1 can resolve its challenges'
    );
  });

  it('shows an account and claims for it', async () => {
    const routes = {
      ...defaultRoutes(),
      'POST claims': { withdrawn_wei: '8000000000000000' }
    };
    await setup(routes);
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    expect((screen.getByTestId('colearn-account-name') as HTMLInputElement).value).toBe('owner');
    expect(screen.getByTestId('colearn-balance').textContent).toBe('9,998.1234 ETH');
    expect(screen.getByTestId('colearn-locked').textContent).toBe('0.04 ETH');
    expect(screen.getByTestId('colearn-claimable').textContent).toBe('0.008 ETH');

    fireEvent.change(screen.getByTestId('colearn-account-name'), { target: { value: 'bob' } });
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-claim'));
    });
    expect(calls(mockAPI)[0]).toEqual(['claims', 'POST', { account: 'bob' }]);
    expect(screen.getByTestId('colearn-message-claim').textContent).toBe('Withdrew 0.008 ETH');
  });

  it('refreshes everything from the refresh button', async () => {
    await setup();
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-refresh'));
    });
    const endpoints = calls(mockAPI).map(c => c[0]);
    expect(endpoints).toEqual(
      expect.arrayContaining(['status', 'contributions?state=pending', 'challenges?status=pending'])
    );
  });
});

describe('who acts, and read-only', () => {
  it('shows who the server acts as', async () => {
    await setup();
    const who = screen.getByTestId('colearn-server-account');
    expect(who.textContent).toBe('acts as owner · 0xf39F…2266');
    expect(who.getAttribute('title')).toContain('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(screen.queryByTestId('colearn-read-only')).toBeNull();
  });

  it('read-only: a banner with why, and every action disabled with why as its title', async () => {
    const why = readOnlyStatus.account.why as string;
    await setup({
      ...defaultRoutes(),
      'GET status': readOnlyStatus,
      'GET challenges': { challenges: [challenge, demand, overdue] }
    });
    expect(screen.getByTestId('colearn-server-account').textContent).toBe('acts as no account (read-only)');
    expect(screen.getByTestId('colearn-read-only').textContent).toBe(`Read-only. ${why}`);
    expect(screen.getByTestId('colearn-sidebar-status').textContent).toBe(
      'colearn: chain 1337 · read-only · 0 to verify'
    );
    const disabledWithWhy = (testid: string) => {
      const button = screen.getByTestId(testid) as HTMLButtonElement;
      expect(button.disabled).toBe(true);
      expect(button.title).toBe(why);
    };
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-model-1'));
    });
    disabledWithWhy('colearn-contribute');
    disabledWithWhy('colearn-retrain');
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-contribution-7'));
    });
    disabledWithWhy('colearn-challenge-selected');
    for (const testid of ['colearn-resolve-uphold-11', 'colearn-resolve-auto-11', 'colearn-answer-12', 'colearn-expire-13']) {
      disabledWithWhy(testid);
    }
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    disabledWithWhy('colearn-claim');
    expect(screen.getByTestId('colearn-account-none').textContent).toContain('acts as no account');
    expect(screen.queryByTestId('colearn-balance')).toBeNull();

    // naming a keystore is the explicit choice: the actions come back, each saying who acts
    fireEvent.change(screen.getByTestId('colearn-account-name'), { target: { value: 'bea' } });
    expect((screen.getByTestId('colearn-claim') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('colearn-acting-claim').textContent).toBe(
      'acting as bea; this server acts as no account'
    );
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect((screen.getByTestId('colearn-resolve-auto-11') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('colearn-acting-resolve').textContent).toBe(
      'acting as bea; this server acts as no account'
    );
    expect((screen.getByTestId('colearn-challenge-selected') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('colearn-acting-challenge').textContent).toContain('acting as bea');
  });

  it('notes the challenger and resolver fields that name another account than the server\'s', async () => {
    await setup({ ...defaultRoutes(), 'GET challenges': { challenges: [challenge] } });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-contribution-7'));
    });
    // the devnet demo: the owner's sidebar challenges as "verifier", visibly
    expect(screen.getByTestId('colearn-acting-challenge').textContent).toBe(
      "acting as verifier, not this server's account owner"
    );
    expect(screen.queryByTestId('colearn-acting-resolve')).toBeNull();
    fireEvent.change(screen.getByTestId('colearn-resolver'), { target: { value: 'alice' } });
    expect(screen.getByTestId('colearn-acting-resolve').textContent).toBe(
      "acting as alice, not this server's account owner"
    );
    fireEvent.change(screen.getByTestId('colearn-verifier'), { target: { value: 'owner' } });
    expect(screen.queryByTestId('colearn-acting-challenge')).toBeNull();
  });

  it('a keystore account on another chain: its name in the header, challenges as itself', async () => {
    await setup({ ...defaultRoutes(), 'GET status': keystoreStatus });
    expect(screen.getByTestId('colearn-server-account').textContent).toBe('acts as ada · 0xf39F…2266');
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-model-1'));
    });
    // ada owns model 1 (same address): Retrain is offered, enabled
    expect((screen.getByTestId('colearn-retrain') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByTestId('colearn-acting-contribute')).toBeNull();
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-contribution-7'));
    });
    expect((screen.getByTestId('colearn-verifier') as HTMLInputElement).value).toBe('');
    expect((screen.getByTestId('colearn-verifier') as HTMLInputElement).placeholder).toBe('ada');
    expect(screen.queryByTestId('colearn-acting-challenge')).toBeNull();
  });
});

describe('the clock (time travel, an instructor\'s action)', () => {
  const devnet = { ...status, time_travel: true, chain_time: 1700000000 };

  it('is not offered where the clock cannot move', async () => {
    await setup(); // a status without time_travel: a real network
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    expect(screen.getByTestId('colearn-claim')).toBeTruthy();
    expect(screen.queryByTestId('colearn-clock')).toBeNull();
  });

  it('says what it does, moves the clock, and refreshes the panels: a window closes', async () => {
    let chainTime = 1700000000;
    await setup({
      ...defaultRoutes(),
      'GET status': () => ({ ...devnet, chain_time: chainTime }),
      'POST time/advance': () => {
        chainTime += 3 * 3600;
        return { advanced_seconds: 3 * 3600, chain_time: chainTime };
      }
    });
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect(screen.getByTestId('colearn-contribution-7').textContent).toContain('2h left');
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    expect(screen.getByTestId('colearn-clock-why').textContent).toMatch(
      /^Moves the clock for everyone on this chain, e\.g\. to let a challenge window pass; in a class, only the\s+instructor may\.$/
    );
    const duration = screen.getByTestId('colearn-clock-duration') as HTMLInputElement;
    expect(duration.value).toBe('1h');
    fireEvent.change(duration, { target: { value: ' 3h ' } });
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-clock-advance'));
    });
    const sent = calls(mockAPI);
    expect(sent[0]).toEqual(['time/advance', 'POST', { duration: '3h' }]); // the server's own account: none named
    expect(sent.map(c => c[0])).toEqual(expect.arrayContaining(['status', 'contributions?state=pending']));
    expect(screen.getByTestId('colearn-message-clock').textContent).toBe(
      'Chain time is now 2023-11-15 01:13:20 UTC (+3h)'
    );
    expect(screen.queryByTestId('colearn-error-clock')).toBeNull();
    fireEvent.click(screen.getByTestId('colearn-tab-queue'));
    expect(screen.getByTestId('colearn-contribution-7').textContent).toContain('window closed');
  });

  it('shows the refusal: a student in a class', async () => {
    const why =
      'moving the clock moves it for the whole class, so only the instructor may; student04 is a student here.';
    await setup({ ...defaultRoutes(), 'GET status': devnet, 'POST time/advance': refuse(why) });
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    fireEvent.change(screen.getByTestId('colearn-account-name'), { target: { value: 'student04' } });
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-clock-advance'));
    });
    expect(calls(mockAPI)).toEqual([['time/advance', 'POST', { duration: '1h', account: 'student04' }]]);
    const line = screen.getByTestId('colearn-error-clock');
    expect(line.textContent).toBe(why);
    expect(line.getAttribute('role')).toBe('alert');
    expect(screen.queryByTestId('colearn-message-clock')).toBeNull();
  });

  it('asks for a duration, and is disabled with why on a read-only server', async () => {
    await setup({ ...defaultRoutes(), 'GET status': devnet });
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    fireEvent.change(screen.getByTestId('colearn-clock-duration'), { target: { value: '  ' } });
    mockAPI.mockClear();
    await act(async () => {
      fireEvent.click(screen.getByTestId('colearn-clock-advance'));
    });
    expect(mockAPI).not.toHaveBeenCalled();
    expect(screen.getByTestId('colearn-error-clock').textContent).toContain('like 90s, 10m, 1h30m or 2d');
    cleanup();

    await setup({ ...defaultRoutes(), 'GET status': readOnlyStatus });
    fireEvent.click(screen.getByTestId('colearn-tab-account'));
    const button = screen.getByTestId('colearn-clock-advance') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.title).toBe(readOnlyStatus.account.why);
  });
});

describe('the event stream\'s error', () => {
  it('is shown in the sidebar, not only "offline"', async () => {
    routeAPI(mockAPI, defaultRoutes());
    const model = new ColearnModel({
      searchDelay: 0,
      eventDelay: 0,
      eventSourceFactory: url => new FakeEventSource(url),
      now: () => 1700000000
    });
    render(<Sidebar model={model} onContribute={jest.fn()} />);
    await act(() => model.refreshAll());
    model.connectEvents();
    const source = FakeEventSource.last as FakeEventSource;
    const message = 'the devnet cannot start: anvil is missing (npm ci installs it), or set COLEARN_ANVIL';
    act(() => {
      source.onerror?.({ data: JSON.stringify({ message, code: 'DevnetError' }) } as unknown as Event);
    });
    expect(screen.getByTestId('colearn-live').textContent).toBe('○ offline');
    expect(screen.getByTestId('colearn-live').getAttribute('title')).toContain(message);
    const line = screen.getByTestId('colearn-error-events');
    expect(line.textContent).toBe(`Live updates stopped: ${message}`);
    expect(line.getAttribute('role')).toBe('alert');
    model.dispose();
  });
});

describe('StatusItem', () => {
  it('renders the status line and follows the model', async () => {
    routeAPI(mockAPI, defaultRoutes());
    const model = new ColearnModel();
    render(<StatusItem model={model} />);
    expect(screen.getByTestId('colearn-statusbar').textContent).toBe('colearn: …');
    await act(() => model.refreshStatus());
    expect(screen.getByTestId('colearn-statusbar').textContent).toBe('colearn: devnet · owner · 1 to verify');
  });
});

describe('AccuracyChart', () => {
  it('draws one point per version and says when there is none', () => {
    const { rerender } = render(<AccuracyChart versions={modelDetail.versions} width={200} height={80} />);
    const svg = screen.getByTestId('colearn-accuracy-chart');
    expect(svg.querySelector('path')?.getAttribute('d')).toMatch(/^M\d/);
    expect(svg.getAttribute('aria-label')).toBe('Accuracy of 2 versions, latest 96.7%');
    rerender(<AccuracyChart versions={[]} />);
    expect(screen.getByTestId('colearn-accuracy-chart').textContent).toBe('No published version yet.');
  });
});
