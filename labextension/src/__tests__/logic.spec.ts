jest.mock('../request', () => ({ requestAPI: jest.fn(), eventsURL: jest.fn(() => '') }));

import {
  accuracyChart,
  actingAsNote,
  addWei,
  blockedReason,
  buildQuery,
  canAnswer,
  canExpire,
  countKinds,
  describeRow,
  filterModels,
  formatAccuracy,
  formatChainTime,
  formatDuration,
  formatTimeLeft,
  formatWei,
  initialRowSelection,
  isAccountName,
  keepRowSelection,
  ownerJudges,
  parseWei,
  plannedKinds,
  readOnlyWhy,
  serverAccountText,
  sortModels,
  statusText,
  streamErrorMessage,
  verdictSummary,
  verdictText
} from '../model';
import { WHOLE_FILE } from '../tokens';
import {
  challenge,
  contributionDetail,
  demand,
  missingFile,
  models,
  modelSummary,
  overdue,
  readOnlyStatus,
  status
} from './support/fixtures';

describe('formatWei', () => {
  it.each([
    ['0', '0 ETH'],
    ['1000000000000000000', '1 ETH'],
    ['10000000000000000', '0.01 ETH'],
    ['2000000000000000', '0.002 ETH'],
    ['1500000000000000000', '1.5 ETH'],
    ['9998123400000000000000', '9,998.1234 ETH'],
    ['123456789012345678901234567890', '123,456,789,012.345679 ETH']
  ])('formats %s wei as %s', (wei, text) => {
    expect(formatWei(wei)).toBe(text);
  });

  it('rounds half up at the last shown decimal, exactly', () => {
    expect(formatWei('1234500000000000', 5)).toBe('0.00123 ETH');
    expect(formatWei('1234550000000000', 5)).toBe('0.00123 ETH');
    expect(formatWei('1235000000000000', 5)).toBe('0.00124 ETH');
    expect(formatWei('999999999999999999', 6)).toBe('1 ETH');
    expect(formatWei('1', 18)).toBe('0.000000000000000001 ETH');
  });

  it('says when a non-zero amount is too small to show', () => {
    expect(formatWei('1')).toBe('< 0.000001 ETH');
    expect(formatWei('1', 0)).toBe('< 1 ETH');
  });

  it('does not lose precision beyond 2^53 (BigInt)', () => {
    // 9007199254740993 wei is not a float; 2^53 + 1
    expect(formatWei('9007199254740993000', 18)).toBe('9.007199254740993 ETH');
    expect(addWei('9007199254740993', '1')).toBe(BigInt('9007199254740994'));
  });

  it('refuses what is not a wei amount', () => {
    expect(formatWei('-1')).toBe('?');
    expect(formatWei('1e18')).toBe('?');
    expect(formatWei('')).toBe('?');
    expect(() => parseWei('0x10')).toThrow('not a wei amount');
  });
});

describe('durations and accuracies', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [3600, '1h'],
    [5400, '1h 30m'],
    [86400, '1d'],
    [90061, '1d 1h 1m']
  ])('formats %d s as %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  it('formats a chain timestamp in UTC', () => {
    expect(formatChainTime(1700000000)).toBe('2023-11-14 22:13:20 UTC');
  });

  it('says how long a window is still open', () => {
    expect(formatTimeLeft(1000, 400)).toBe('10m left');
    expect(formatTimeLeft(1000, 1000)).toBe('window closed');
  });

  it('formats accuracies as percentages', () => {
    expect(formatAccuracy(0.9667)).toBe('96.7%');
    expect(formatAccuracy(1)).toBe('100.0%');
    expect(formatAccuracy(null)).toBe('n/a');
  });
});

describe('sortModels and filterModels', () => {
  const ids = (list: { id: number }[]) => list.map(m => m.id);

  it('sorts by every key the API accepts, both ways', () => {
    expect(ids(sortModels(models, 'id', 'desc'))).toEqual([3, 2, 1]);
    expect(ids(sortModels(models, 'name', 'asc'))).toEqual([3, 1, 2]); // Digits, iris, wine: case-insensitive
    expect(ids(sortModels(models, 'rows_accepted', 'desc'))).toEqual([3, 1, 2]);
    expect(ids(sortModels(models, 'rows_pending', 'asc'))).toEqual([2, 1, 3]);
  });

  it('puts models without an accuracy last in either order', () => {
    expect(ids(sortModels(models, 'accuracy', 'desc'))).toEqual([1, 2, 3]);
    expect(ids(sortModels(models, 'accuracy', 'asc'))).toEqual([2, 1, 3]);
  });

  it('breaks ties by id and does not change its input', () => {
    const tied = [modelSummary({ id: 5, rows_pending: 1 }), modelSummary({ id: 4, rows_pending: 1 })];
    expect(ids(sortModels(tied, 'rows_pending', 'desc'))).toEqual([4, 5]);
    expect(ids(tied)).toEqual([5, 4]);
  });

  it('filters by name, owner or id, ignoring case', () => {
    expect(ids(filterModels(models, 'IRI'))).toEqual([1]);
    expect(ids(filterModels(models, 'digits'))).toEqual([3]);
    expect(ids(filterModels(models, '0XF39F'))).toEqual([1, 2, 3]); // the owner
    const others = [modelSummary({ id: 12, name: 'a', owner: 'bob' }), modelSummary({ id: 2, name: 'b', owner: 'eve' })];
    expect(ids(filterModels(others, '2'))).toEqual([2]); // an id matches whole
    expect(ids(filterModels(models, '  '))).toEqual([1, 2, 3]);
    expect(ids(filterModels(models, 'nothing'))).toEqual([]);
  });
});

describe('buildQuery', () => {
  it('encodes values and drops empty ones', () => {
    expect(buildQuery({ search: 'a b&c', sort: 'name', order: 'asc', limit: 50 })).toBe(
      '?search=a%20b%26c&sort=name&order=asc&limit=50'
    );
    expect(buildQuery({ search: '', account: undefined, model: null })).toBe('');
  });
});

describe('verdicts', () => {
  it('summarises a report: verdicts, and the plan with its kinds', () => {
    const summary = verdictSummary(contributionDetail.report);
    expect(summary).toMatchObject({
      rows: 4,
      ok: 2,
      suspicious: 1,
      bad: 1,
      suggested: 2,
      challenged: 0,
      kinds: '1 label, 1 duplicate',
      intact: true
    });
    expect(summary.text).toBe('4 rows: 2 ok, 1 suspicious, 1 bad, 2 planned challenges (1 label, 1 duplicate)');
    // a row with a fault does not break the file's integrity: the rows check fails, the file is intact
    expect(summary.checks).toBe('CID ✔ · row count ✔ · Merkle root ✔ · rows ✘');
  });

  it('reports a failed integrity check with its problem and the demand it plans', () => {
    const summary = verdictSummary({
      ...contributionDetail.report,
      root_ok: false,
      rows: [],
      plan: [{ row: 3, kind: 'availability' }],
      suggested: [3],
      problem: 'the rows do not match the Merkle root'
    });
    expect(summary.intact).toBe(false);
    expect(summary.checks).toBe('CID ✔ · row count ✔ · Merkle root ✘ · rows ✘');
    expect(summary.text).toBe(
      'Integrity check failed: the rows do not match the Merkle root; 1 planned challenge (1 availability)'
    );
    expect(verdictSummary(missingFile.report).checks).toBe('CID ✘ · row count ✘ · Merkle root ✘ · rows ✘');
  });

  it('knows the kind the plan gives each row', () => {
    expect([...plannedKinds(contributionDetail.report)]).toEqual([
      [1, 'label'],
      [3, 'duplicate']
    ]);
    expect(plannedKinds(missingFile.report).get(4)).toBe('availability');
    expect(countKinds(['label', 'format', 'label'])).toBe('2 label, 1 format');
    expect(countKinds([])).toBe('');
  });

  it('pre-selects the planned rows that are not challenged yet', () => {
    expect(initialRowSelection(contributionDetail.report)).toEqual([1, 3]);
    const report = {
      ...contributionDetail.report,
      rows: contributionDetail.report.rows.map(r =>
        r.row === 3 ? { ...r, verdict: 'challenged' as const, challenge_id: 12 } : r
      )
    };
    expect(initialRowSelection(report)).toEqual([1]);
    expect(keepRowSelection([0, 3, 9], report)).toEqual([0]);
    expect(verdictSummary(report).text).toContain('1 already challenged');
  });
});

describe('a file that cannot be used', () => {
  const report = {
    ...missingFile.report,
    plan: [{ row: null, kind: 'file' as const }],
    suggested: [null]
  };

  it('plans a challenge of the whole file, selected and named like a row', () => {
    expect([...plannedKinds(report)]).toEqual([[WHOLE_FILE, 'file']]);
    expect(initialRowSelection(report)).toEqual([WHOLE_FILE]);
    expect(keepRowSelection([WHOLE_FILE, 2], report)).toEqual([WHOLE_FILE]);
    expect(initialRowSelection(report, new Map([[WHOLE_FILE, 21]]))).toEqual([]);
    expect(verdictSummary(report).text).toContain('1 planned challenge (1 file)');
    expect(describeRow(WHOLE_FILE)).toBe('the file');
    expect(describeRow(null)).toBe('the file');
    expect(describeRow(4)).toBe('row 4');
  });

  it('lets the owner judge file challenges, and says what a verdict did', () => {
    expect(ownerJudges({ ...challenge, kind: 'file', row: null })).toBe(true);
    expect(verdictText(true, 'file')).toBe('upheld: the whole batch is rejected');
    expect(verdictText(false, 'file')).toBe('rejected: the whole batch stands');
    expect(verdictText(true, 'label')).toBe('upheld: the row is rejected');
    expect(verdictText(false, undefined)).toBe('rejected: the row stands');
  });
});

describe('what can be done with a challenge', () => {
  const now = 1700000000;

  it('lets the owner judge label (and file) challenges only', () => {
    expect(ownerJudges(challenge)).toBe(true);
    expect(ownerJudges(demand)).toBe(false);
    expect(ownerJudges({ ...challenge, kind: 'format' })).toBe(false);
  });

  it('answers pending availability challenges before their time-out', () => {
    expect(canAnswer(demand, now)).toBe(true);
    expect(canAnswer(challenge, now)).toBe(false);
    expect(canAnswer({ ...demand, resolve_by: now - 1 }, now)).toBe(false);
    expect(canAnswer({ ...demand, status: 'answered' }, now)).toBe(false);
  });

  it('expires pending challenges past their time-out', () => {
    expect(canExpire(overdue, now)).toBe(true);
    expect(canExpire(challenge, now)).toBe(false);
    expect(canExpire({ ...overdue, status: 'upheld' }, now)).toBe(false);
  });
});

describe('accuracyChart', () => {
  it('places versions left to right and higher accuracy higher', () => {
    const versions = [
      { version: 2, parent: 1, accuracy: 0.95, rows_accepted: 0, published_at: 0, model_cid: '' },
      { version: 1, parent: 0, accuracy: 0.85, rows_accepted: 0, published_at: 0, model_cid: '' },
      { version: 3, parent: 2, accuracy: 0.9, rows_accepted: 0, published_at: 0, model_cid: '' }
    ];
    const chart = accuracyChart(versions, 200, 100, 10);
    expect(chart.points.map(p => p.version)).toEqual([1, 2, 3]);
    expect(chart.points.map(p => p.x)).toEqual([10, 100, 190]);
    expect(chart.points[0].y).toBe(90); // the lowest at the bottom
    expect(chart.points[1].y).toBe(10); // the highest at the top
    expect(chart.path).toBe('M10 90 L100 10 L190 50');
  });

  it('widens a flat history and keeps it within [0, 1]', () => {
    const one = [{ version: 1, parent: 0, accuracy: 1, rows_accepted: 0, published_at: 0, model_cid: '' }];
    const chart = accuracyChart(one, 100, 50, 5);
    expect(chart.yMax).toBe(1);
    expect(chart.yMin).toBeCloseTo(0.9);
    expect(chart.points[0]).toMatchObject({ x: 50, y: 5 });
    expect(accuracyChart([], 100, 50).path).toBe('');
  });
});

describe('status and accounts', () => {
  it('writes the status bar text', () => {
    expect(statusText(status)).toBe('colearn: devnet · owner · 1 to verify');
    const remote = { ...status, chain: { devnet: false, url: 'http://rpc', chain_id: 11155111 } };
    expect(statusText(remote)).toBe('colearn: chain 11155111 · owner · 1 to verify');
    expect(statusText(null)).toBe('colearn: …');
    expect(statusText(null, 'boom')).toBe('colearn: unavailable');
  });

  it('knows account names', () => {
    expect(isAccountName('verifier')).toBe(true);
    expect(isAccountName('bob-2_x')).toBe(true);
    expect(isAccountName('no spaces')).toBe(false);
    expect(isAccountName('')).toBe(false);
  });
});

describe('who acts', () => {
  it('says who the server acts as, or that it is read-only and why', () => {
    expect(serverAccountText(status)).toBe('owner · 0xf39F…2266');
    expect(serverAccountText(readOnlyStatus)).toBe('no account (read-only)');
    expect(serverAccountText(null)).toBe('');
    expect(readOnlyWhy(status)).toBe('');
    expect(readOnlyWhy(readOnlyStatus)).toContain('set c.ColearnSettings.account to a keystore');
    const silent = { ...readOnlyStatus, account: { ...readOnlyStatus.account, why: '' } };
    expect(readOnlyWhy(silent)).toContain('acts as no account');
    expect(statusText(readOnlyStatus)).toBe('colearn: chain 1337 · read-only · 0 to verify');
  });

  it('blocks an action on a read-only server until an account is named', () => {
    expect(blockedReason(status, '')).toBe('');
    expect(blockedReason(status, 'bob')).toBe('');
    expect(blockedReason(readOnlyStatus, '')).toBe(readOnlyWhy(readOnlyStatus));
    expect(blockedReason(readOnlyStatus, '  ')).toBe(readOnlyWhy(readOnlyStatus));
    expect(blockedReason(readOnlyStatus, 'nobody')).toBe(readOnlyWhy(readOnlyStatus)); // its placeholder name
    expect(blockedReason(readOnlyStatus, 'bea')).toBe(''); // an explicit choice: a keystore in the home
    expect(blockedReason(null, '')).toBe('');
  });

  it('notes an action that runs as another account than the server\'s', () => {
    expect(actingAsNote(status, '')).toBe('');
    expect(actingAsNote(status, 'owner')).toBe('');
    expect(actingAsNote(status, ' alice ')).toBe("acting as alice, not this server's account owner");
    expect(actingAsNote(readOnlyStatus, 'bea')).toBe('acting as bea; this server acts as no account');
    expect(actingAsNote(readOnlyStatus, '')).toBe('');
    expect(actingAsNote(null, 'alice')).toBe('');
  });

  it("reads the event stream's error message", () => {
    const data = JSON.stringify({ message: 'anvil is missing: install it', code: 'DevnetError' });
    expect(streamErrorMessage({ data })).toBe('anvil is missing: install it');
    expect(streamErrorMessage({ data: 'plain words' })).toBe('plain words');
    expect(streamErrorMessage({ data: '' })).toBe('');
    expect(streamErrorMessage({})).toBe(''); // a connection error carries no data
    expect(streamErrorMessage(null)).toBe('');
  });
});
