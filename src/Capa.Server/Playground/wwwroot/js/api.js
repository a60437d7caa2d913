// The page's HTTP client: this server's OpenAI API, with the key from session storage.

const KEY_NAME = 'capa.apiKey';

/** The API key this tab holds ('' when none). */
export function apiKey() {
  return sessionStorage.getItem(KEY_NAME) ?? '';
}

/** Keeps the key for this tab's session only. */
export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key);
  else sessionStorage.removeItem(KEY_NAME);
}

/** Whether requests must wait for a key (set from /playground/features). */
export const auth = { required: false, onMissing: () => {} };

/** An error answered by the API, with OpenAI's error object. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.type = error?.type ?? null;
    this.code = error?.code ?? null;
    this.param = error?.param ?? null;
  }
}

/** The server's base URL for SDKs (`http://host:port/v1`). */
export function baseUrl() {
  return `${location.origin}/v1`;
}

/**
 * Sends a request to the API. `json` is sent as JSON, `form` (FormData) as multipart. Resolves to the Response when
 * it is a success; otherwise throws an ApiError with OpenAI's message.
 */
export async function call(path, { method = 'POST', json, form, signal } = {}) {
  const headers = {};
  const key = apiKey();
  if (auth.required && !key) {
    auth.onMissing();
    throw new ApiError(401, { message: 'This server needs an API key: enter it above.', code: 'missing_api_key' });
  }
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal, cache: 'no-store' });
  if (response.ok) return response;
  let error = null;
  try {
    error = (await response.json())?.error ?? null;
  } catch {
    // Not JSON: the status line says enough.
  }
  if (response.status === 401) auth.onMissing(error?.message);
  throw new ApiError(response.status, error ?? { message: `HTTP ${response.status} ${response.statusText}` });
}

/** Sends a request and parses its JSON answer: { data, response }. */
export async function callJson(path, options) {
  const response = await call(path, options);
  return { data: await response.json(), response };
}

/**
 * Reads a server-sent event stream: yields { event, data } with data parsed as JSON, until [DONE] or the end.
 * Bytes are decoded as one UTF-8 stream, so a character split across chunks (Chinese text is three bytes a
 * character) is never broken.
 */
export async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
        let event = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length === 0) continue;
        const text = data.join('\n');
        if (text === '[DONE]') return;
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          continue;
        }
        if (parsed?.error) throw new ApiError(500, parsed.error);
        // `name` is the SSE event line itself: the Assistants stream names its events there, and its run steps carry a `type` of their own.
        yield { event: parsed?.type ?? event, name: event, data: parsed };
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
