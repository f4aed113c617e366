// The one HTTP client of the app: bearer auth, silent token refresh, human errors, error reports.
// Tokens: the refresh token and the access token (with its expiry) live in localStorage so tabs
// share them; refreshes are serialised across tabs with the Web Locks API where present, because
// the server revokes a whole token family when a rotated refresh token is used twice.
import { signal } from '@preact/signals';

export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}

export class ApiError extends Error {
  status: number;
  code: string;
  details?: any;
  requestId?: string;
  constructor(status: number, code: string, message: string, details?: any, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresAtMs: number;
}

interface AuthAnswer {
  accessToken: string;
  refreshToken: string;
  expiresInS: number;
  user: User;
}

const KEY_TOKENS = 'gavel.tokens';
const KEY_USER = 'gavel.user';
/** Refresh when less than this is left on the access token. */
const REFRESH_MARGIN_MS = 60_000;

const NETWORK_MESSAGE = "We can't reach Gavel right now. Check your connection and try again.";
const FALLBACK_MESSAGE = 'Something went wrong on our side. Please try again in a moment.';

function store(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function readJson<T>(key: string): T | null {
  try {
    const raw = store()?.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function writeJson(key: string, value: unknown): void {
  try {
    const s = store();
    if (!s) return;
    if (value === null) s.removeItem(key);
    else s.setItem(key, JSON.stringify(value));
  } catch {
    /* private mode or full storage: the session lives in memory only */
  }
}

let memTokens: Tokens | null = readJson<Tokens>(KEY_TOKENS);

/** The signed-in user, or null. Both halves of the app read it. */
export const session = signal<{ user: User | null }>({ user: memTokens ? readJson<User>(KEY_USER) : null });

function tokens(): Tokens | null {
  // Another tab may have refreshed: the stored copy wins when it is newer.
  const stored = readJson<Tokens>(KEY_TOKENS);
  if (stored && (!memTokens || stored.expiresAtMs >= memTokens.expiresAtMs)) memTokens = stored;
  if (!stored && memTokens && store()) memTokens = null; // signed out in another tab
  return memTokens;
}

function setTokens(t: Tokens | null, user?: User | null): void {
  memTokens = t;
  writeJson(KEY_TOKENS, t);
  if (user !== undefined) {
    writeJson(KEY_USER, user);
    session.value = { user };
  }
}

/** Applies a successful verify or refresh answer. */
export function acceptAuth(a: AuthAnswer): void {
  setTokens(
    { accessToken: a.accessToken, refreshToken: a.refreshToken, expiresAtMs: Date.now() + a.expiresInS * 1000 },
    a.user,
  );
}

/** Forgets the session locally (after logout or a failed refresh). */
export function clearSession(): void {
  setTokens(null, null);
}

/** Updates the cached user (after PATCH /api/me). */
export function setUser(user: User): void {
  writeJson(KEY_USER, user);
  session.value = { user };
}

// ---- error reports ---------------------------------------------------------------------------

let reportsLeft = 10;

/** The path without secrets: invite and watch codes become placeholders. */
export function redactPath(path: string): string {
  return path.replace(/^\/(invite|watch)\/[^/]+/, '/$1/:code');
}

/** Sends what went wrong to the server; no personal data, fire-and-forget, ≤ 10 per page life. */
export function reportClientError(kind: string, message: string, extra?: Record<string, unknown>): void {
  if (reportsLeft <= 0 || typeof fetch === 'undefined') return;
  reportsLeft--;
  try {
    const requestId = typeof extra?.requestId === 'string' ? (extra.requestId as string) : undefined;
    const body: Record<string, unknown> = {
      kind: String(kind).slice(0, 40),
      message: String(message).slice(0, 280),
      path: typeof location === 'undefined' ? '' : redactPath(location.pathname),
      userAgent: typeof navigator === 'undefined' ? '' : navigator.userAgent.slice(0, 200),
    };
    if (requestId) body.requestId = requestId;
    if (typeof extra?.status === 'number') body.status = extra.status;
    if (typeof extra?.code === 'string') body.code = extra.code.slice(0, 40);
    void fetch('/api/client-errors', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      keepalive: true,
    }).catch(() => undefined);
  } catch {
    /* never let reporting break the app */
  }
}

// ---- raw requests ----------------------------------------------------------------------------

async function errorFrom(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('X-Request-Id') ?? undefined;
  let code = 'http_' + res.status;
  let message = res.status >= 500 ? FALLBACK_MESSAGE : 'That did not work. Please try again.';
  let details: any;
  try {
    const j = await res.json();
    if (j && j.error) {
      code = String(j.error.code ?? code);
      if (typeof j.error.message === 'string' && j.error.message) message = j.error.message;
      details = j.error.details;
    }
  } catch {
    /* not JSON: keep the fallback sentence */
  }
  if (res.status === 429 && code === 'http_429') code = 'rate_limited';
  return new ApiError(res.status, code, message, details, requestId);
}

async function send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    if (typeof body === 'string') {
      headers['Content-Type'] = 'text/csv';
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  try {
    return await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
}

/** A request without a bearer token (the auth endpoints). */
export async function publicApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body, null);
  if (!res.ok) {
    const e = await errorFrom(res);
    if (e.status >= 500) reportClientError('request', `${method} ${redactPath(path)} failed`, { requestId: e.requestId, status: e.status, code: e.code });
    throw e;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

// ---- refresh ---------------------------------------------------------------------------------

let refreshing: Promise<Tokens> | null = null;

async function doRefresh(force: boolean): Promise<Tokens> {
  const before = tokens();
  if (!before) throw new ApiError(401, 'unauthorized', 'Please sign in.');
  // Inside the lock, another tab may already have rotated the token.
  const now = tokens();
  if (now && !force && now.expiresAtMs - Date.now() > REFRESH_MARGIN_MS) return now;
  if (now && force && now.accessToken !== before.accessToken) return now;
  const cur = now ?? before;
  const a = await publicApi<AuthAnswer>('POST', '/api/auth/refresh', { refreshToken: cur.refreshToken });
  acceptAuth(a);
  return memTokens!;
}

function refresh(force: boolean): Promise<Tokens> {
  if (!refreshing) {
    const locks = typeof navigator !== 'undefined' ? (navigator as any).locks : undefined;
    const run = () => doRefresh(force);
    const p: Promise<Tokens> = locks?.request ? locks.request('gavel-refresh', run) : run();
    refreshing = p.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Where the app sends the user when the session cannot be renewed. Replaceable for tests. */
export let onAuthLost = (): void => {
  if (typeof location === 'undefined') return;
  const here = location.pathname + location.search;
  if (location.pathname.startsWith('/signin') || location.pathname.startsWith('/auth/')) return;
  location.assign('/signin?next=' + encodeURIComponent(here));
};
export function setOnAuthLost(fn: () => void): void {
  onAuthLost = fn;
}

function authLost(): never {
  clearSession();
  onAuthLost();
  throw new ApiError(401, 'unauthorized', 'Your session has ended. Please sign in again.');
}

/** A fresh access token, refreshed when less than 60 s are left (used for the WebSocket `auth`). */
export async function getAccessToken(): Promise<string> {
  const t = tokens();
  if (!t) return authLost();
  if (t.expiresAtMs - Date.now() > REFRESH_MARGIN_MS) return t.accessToken;
  try {
    return (await refresh(false)).accessToken;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 400)) return authLost();
    throw e;
  }
}

/** Calls the API as the signed-in user. `opts.raw` returns the Response itself (CSV downloads). */
export async function api<T>(method: string, path: string, body?: unknown, opts?: { raw?: boolean }): Promise<T> {
  let token = await getAccessToken();
  let res = await send(method, path, body, token);
  if (res.status === 401) {
    const e = await errorFrom(res.clone());
    if (e.code === 'token_expired' || e.code === 'unauthorized') {
      try {
        token = (await refresh(true)).accessToken;
      } catch (re) {
        if (re instanceof ApiError && re.status !== 0) return authLost();
        throw re;
      }
      res = await send(method, path, body, token);
      if (res.status === 401) return authLost();
    }
  }
  if (!res.ok) {
    const e = await errorFrom(res);
    if (e.status >= 500)
      reportClientError('request', `${method} ${redactPath(path.split('?')[0]).replace(/\/(invites|watch)\/[^/]+/, '/$1/:code')} failed`, {
        requestId: e.requestId,
        status: e.status,
        code: e.code,
      });
    throw e;
  }
  if (opts?.raw) return res as unknown as T;
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---- sign-in flow helpers --------------------------------------------------------------------

export interface MagicLinkAnswer {
  sent: boolean;
  expiresInS: number;
  devToken?: string;
  devCode?: string;
  devLink?: string;
}

export function requestMagicLink(email: string): Promise<MagicLinkAnswer> {
  return publicApi<MagicLinkAnswer>('POST', '/api/auth/magic-link', { email });
}

export async function verifySignIn(body: { email: string; token: string } | { email: string; code: string }): Promise<User> {
  const a = await publicApi<AuthAnswer>('POST', '/api/auth/verify', body);
  acceptAuth(a);
  return a.user;
}

export async function signOut(): Promise<void> {
  const t = tokens();
  clearSession();
  if (t) {
    try {
      await publicApi('POST', '/api/auth/logout', { refreshToken: t.refreshToken });
    } catch {
      /* signed out locally either way */
    }
  }
}

/** Whether a session exists locally (it may still need a refresh). */
export function isSignedIn(): boolean {
  return tokens() !== null;
}
