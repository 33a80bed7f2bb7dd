import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Where the server extension serves its REST API, relative to the Jupyter server's base URL. */
export const API_NAMESPACE = 'colearn/api';

/**
 * Call the colearn REST API.
 *
 * @param endpoint path under `<baseUrl>/colearn/api/`, with its query string (e.g. `models?sort=name`)
 * @param init the fetch options (method, body as a JSON string)
 * @returns the parsed JSON answer
 * @throws ServerConnection.ResponseError carrying the API's `{message}` on a non-2xx answer,
 *   ServerConnection.NetworkError when the server cannot be reached
 */
export async function requestAPI<T>(
  endpoint = '',
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const requestUrl = URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
  // JupyterLab's default (`no-store`) appends a `?<timestamp>` cache buster that is no parameter of the
  // API; `no-cache` keeps answers fresh (the browser revalidates every time) without it.
  init = { cache: 'no-cache', ...init };
  if (init.body !== undefined && init.body !== null) {
    const headers = new Headers(init.headers);
    if (!headers.has('Content-Type')) {
      headers.set('Content-Type', 'application/json');
    }
    init = { ...init, headers };
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(requestUrl, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  let data: any = await response.text();
  if (data.length > 0) {
    try {
      data = JSON.parse(data);
    } catch (error) {
      // not JSON (e.g. an HTML error page): keep the text
    }
  }

  if (!response.ok) {
    const message =
      data && typeof data === 'object' && typeof data.message === 'string'
        ? data.message
        : typeof data === 'string' && data.length > 0 && data.length < 500
          ? data
          : `${response.status} ${response.statusText}`;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}

/**
 * The URL of the server-sent event stream `GET /colearn/api/events`, with the token as `token=`
 * (EventSource cannot send an Authorization header) when the settings have one and `withToken`;
 * without it the browser's Jupyter login cookie authenticates the stream.
 */
export function eventsURL(since?: number, withToken = true): string {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, 'events');
  const params: string[] = [];
  if (since !== undefined) {
    params.push(`since=${encodeURIComponent(String(since))}`);
  }
  if (withToken && settings.token) {
    params.push(`token=${encodeURIComponent(settings.token)}`);
  }
  return params.length > 0 ? `${url}?${params.join('&')}` : url;
}
