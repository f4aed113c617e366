import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { acceptAuth, api, ApiError, clearSession, getAccessToken, reportClientError, session, setOnAuthLost } from './client';

const user = { id: 'usr_1', email: 'a@example.com', name: 'Ann', isAdmin: false };

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

let calls: Array<{ url: string; init: RequestInit }>;
let replies: Array<(url: string, init: RequestInit) => Response | Promise<Response>>;
let lost: number;

beforeEach(() => {
  calls = [];
  replies = [];
  lost = 0;
  setOnAuthLost(() => {
    lost++;
  });
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const r = replies.shift();
    if (!r) throw new Error('unexpected fetch ' + url);
    return Promise.resolve(r(url, init));
  });
  acceptAuth({ accessToken: 'A1', refreshToken: 'R1', expiresInS: 900, user });
});
afterEach(() => {
  vi.unstubAllGlobals();
  clearSession();
});

describe('api', () => {
  it('sends the bearer token and JSON, and parses the answer', async () => {
    replies.push(() => json(200, { ok: 1 }));
    expect(await api('POST', '/api/x', { a: 1 })).toEqual({ ok: 1 });
    const h = calls[0].init.headers as Record<string, string>;
    expect(h.Authorization).toBe('Bearer A1');
    expect(h['Content-Type']).toBe('application/json');
    expect(calls[0].init.body).toBe('{"a":1}');
  });

  it('turns an API error into ApiError with the server sentence', async () => {
    replies.push(() =>
      json(409, { error: { code: 'league_full', message: 'This league is full.', details: { max: 8 } } }, { 'X-Request-Id': 'rid-1' }),
    );
    const e = (await api('POST', '/api/x').catch((x) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 409, code: 'league_full', message: 'This league is full.', details: { max: 8 }, requestId: 'rid-1' });
  });

  it('never shows raw bodies: a non-JSON 500 gets a friendly sentence and is reported', async () => {
    replies.push(() => new Response('<html>boom</html>', { status: 502 }));
    replies.push(() => json(204, undefined)); // the client-error report
    const e = (await api('GET', '/api/x').catch((x) => x)) as ApiError;
    expect(e.code).toBe('http_502');
    expect(e.message).not.toContain('<html>');
    expect(calls[1].url).toBe('/api/client-errors');
    const report = JSON.parse(String(calls[1].init.body));
    expect(Object.keys(report).sort()).toEqual(['code', 'kind', 'message', 'path', 'status', 'userAgent']);
    expect(report).toMatchObject({ status: 502, code: 'http_502', kind: 'request' });
  });

  it('a network failure is ApiError code network', async () => {
    replies.push(() => {
      throw new TypeError('Failed to fetch');
    });
    const e = (await api('GET', '/api/x').catch((x) => x)) as ApiError;
    expect(e).toMatchObject({ status: 0, code: 'network' });
    expect(e.message).toMatch(/connection/);
  });

  it('refreshes once on token_expired and retries', async () => {
    replies.push(() => json(401, { error: { code: 'token_expired', message: 'Expired.' } }));
    replies.push(() => json(200, { accessToken: 'A2', refreshToken: 'R2', expiresInS: 900, user }));
    replies.push((_u, init) => json(200, { auth: (init.headers as Record<string, string>).Authorization }));
    expect(await api('GET', '/api/x')).toEqual({ auth: 'Bearer A2' });
    expect(calls[1].url).toBe('/api/auth/refresh');
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ refreshToken: 'R1' });
    expect(await getAccessToken()).toBe('A2');
  });

  it('refreshes before expiry, once for concurrent callers', async () => {
    acceptAuth({ accessToken: 'A1', refreshToken: 'R1', expiresInS: 30, user });
    replies.push(async () => json(200, { accessToken: 'A3', refreshToken: 'R3', expiresInS: 900, user }));
    const [a, b] = await Promise.all([getAccessToken(), getAccessToken()]);
    expect([a, b]).toEqual(['A3', 'A3']);
    expect(calls.filter((c) => c.url === '/api/auth/refresh')).toHaveLength(1);
  });

  it('a failed refresh signs out and sends the user to sign-in', async () => {
    acceptAuth({ accessToken: 'A1', refreshToken: 'R1', expiresInS: 10, user });
    replies.push(() => json(401, { error: { code: 'invalid_token', message: 'Nope.' } }));
    const e = (await api('GET', '/api/x').catch((x) => x)) as ApiError;
    expect(e.status).toBe(401);
    expect(lost).toBe(1);
    expect(session.value.user).toBeNull();
  });
});

describe('reportClientError', () => {
  it('sends at most 10 per page life', async () => {
    for (let i = 0; i < 20; i++) replies.push(() => json(204, undefined));
    for (let i = 0; i < 20; i++) reportClientError('test', 'x' + i);
    expect(calls.filter((c) => c.url === '/api/client-errors').length).toBeLessThanOrEqual(10);
  });
});

describe('redactPath', () => {
  it('hides invite and watch codes', async () => {
    const { redactPath } = await import('./client');
    expect(redactPath('/invite/ABCDEF123456')).toBe('/invite/:code');
    expect(redactPath('/watch/ABCDEF123456')).toBe('/watch/:code');
    expect(redactPath('/leagues/lg_1')).toBe('/leagues/lg_1');
  });
});
