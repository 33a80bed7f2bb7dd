const settings = { baseUrl: 'http://localhost:8888/lab-base/', token: 'secret token' };

jest.mock('@jupyterlab/coreutils', () => ({
  URLExt: {
    join: (...parts: string[]) =>
      parts
        .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
        .filter(p => p.length > 0)
        .join('/')
  }
}));

jest.mock('@jupyterlab/services', () => {
  class ResponseError extends Error {
    constructor(
      readonly response: { status: number },
      message: string
    ) {
      super(message);
    }
  }
  class NetworkError extends Error {
    constructor(original: Error) {
      super(original.message);
    }
  }
  return {
    ServerConnection: {
      makeSettings: jest.fn(() => settings),
      makeRequest: jest.fn(),
      ResponseError,
      NetworkError
    }
  };
});

import { ServerConnection } from '@jupyterlab/services';

import { eventsURL, requestAPI } from '../request';

const makeRequest = ServerConnection.makeRequest as unknown as jest.Mock;

function answer(status: number, body: string) {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: status === 409 ? 'Conflict' : 'OK',
    text: async () => body
  };
}

beforeEach(() => makeRequest.mockReset());

describe('requestAPI', () => {
  it('calls <baseUrl>/colearn/api/<endpoint> and parses JSON', async () => {
    makeRequest.mockResolvedValue(answer(200, '{"total": 0, "models": []}'));
    await expect(requestAPI('models?sort=name')).resolves.toEqual({ total: 0, models: [] });
    expect(makeRequest.mock.calls[0][0]).toBe('http://localhost:8888/lab-base/colearn/api/models?sort=name');
    // no `no-store`: JupyterLab would append a `?<timestamp>` cache buster the API does not declare
    expect((makeRequest.mock.calls[0][1] as RequestInit).cache).toBe('no-cache');
  });

  it('sends JSON bodies with a JSON content type', async () => {
    makeRequest.mockResolvedValue(answer(200, '{"withdrawn_wei": "0"}'));
    await requestAPI('claims', { method: 'POST', body: '{"account":"bob"}' });
    const init = makeRequest.mock.calls[0][1] as RequestInit;
    expect(init.method).toBe('POST');
    expect(new Headers(init.headers).get('Content-Type')).toBe('application/json');
  });

  it('throws the API error message', async () => {
    makeRequest.mockResolvedValue(answer(409, '{"message": "challenge window closed", "code": "refused"}'));
    await expect(requestAPI('challenges', { method: 'POST', body: '{}' })).rejects.toThrow(
      'challenge window closed'
    );
    makeRequest.mockResolvedValue(answer(409, ''));
    await expect(requestAPI('claims')).rejects.toThrow('409 Conflict');
  });

  it('turns a failed fetch into a network error', async () => {
    makeRequest.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestAPI('status')).rejects.toThrow('Failed to fetch');
  });
});

describe('eventsURL', () => {
  it('puts the token in the query', () => {
    expect(eventsURL()).toBe('http://localhost:8888/lab-base/colearn/api/events?token=secret%20token');
    expect(eventsURL(5)).toBe('http://localhost:8888/lab-base/colearn/api/events?since=5&token=secret%20token');
  });

  it('relies on the cookie without a token', () => {
    settings.token = '';
    expect(eventsURL()).toBe('http://localhost:8888/lab-base/colearn/api/events');
  });
});
