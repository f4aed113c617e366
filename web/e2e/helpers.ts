// Helpers shared by every end-to-end spec: sign in through the real page, call the API as a user.
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** Signs in through the real sign-in page in --dev mode (the page shows the dev link). */
export async function signIn(page: Page, baseUrl: string, email: string, name?: string): Promise<void> {
  await page.goto(baseUrl + '/signin');
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Send sign-in link' }).click();
  await page.getByRole('link', { name: 'Open the sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  if (name) {
    const api = await apiFromPage(page, baseUrl);
    await api('PATCH', '/api/me', { name });
    await page.evaluate((n) => {
      const raw = localStorage.getItem('gavel.user');
      if (raw) localStorage.setItem('gavel.user', JSON.stringify({ ...JSON.parse(raw), name: n }));
    }, name);
    // The app reads the cached user at start: reload so every signal sees the new name.
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  }
}

export type ApiFn = <T = any>(method: string, path: string, body?: unknown) => Promise<T>;

export interface ApiUser {
  call: ApiFn;
  token: string;
  refreshToken: string;
  user: { id: string; email: string; name: string; isAdmin: boolean };
}

function makeCall(baseUrl: string, token: () => string): ApiFn {
  return async (method, path, body) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        Authorization: 'Bearer ' + token(),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as any;
  };
}

/** A token-bearing fetch helper for `email`, signed in through magic-link (devToken) + verify. */
export async function apiAs(baseUrl: string, email: string): Promise<ApiUser> {
  const ml = await fetch(baseUrl + '/api/auth/magic-link', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (ml.status !== 202) throw new Error('magic-link → ' + ml.status + ' ' + (await ml.text()));
  const { devToken } = (await ml.json()) as { devToken: string };
  const v = await fetch(baseUrl + '/api/auth/verify', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, token: devToken }),
  });
  if (v.status !== 200) throw new Error('verify → ' + v.status + ' ' + (await v.text()));
  const a = (await v.json()) as { accessToken: string; refreshToken: string; user: ApiUser['user'] };
  const u: ApiUser = { call: makeCall(baseUrl, () => u.token), token: a.accessToken, refreshToken: a.refreshToken, user: a.user };
  return u;
}

/** A fetch helper that uses the access token the page currently holds. */
export async function apiFromPage(page: Page, baseUrl: string): Promise<ApiFn> {
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('gavel.tokens') || 'null')?.accessToken ?? '');
  return makeCall(baseUrl, () => token);
}

/**
 * No axe violation of serious or critical impact. By default in the light and the dark colour
 * schemes (then back to light); with `schemes` null, in whatever scheme the page has now.
 */
export async function axeClean(
  page: Page,
  label: string,
  schemes: readonly ('light' | 'dark')[] | null = ['light', 'dark'],
): Promise<void> {
  for (const scheme of schemes ?? [null]) {
    if (scheme) await page.emulateMedia({ colorScheme: scheme });
    const r = await new AxeBuilder({ page }).options({ resultTypes: ['violations'] }).analyze();
    const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`),
      `axe on ${label}${scheme ? ` (${scheme})` : ''}`,
    ).toEqual([]);
  }
  if (schemes) await page.emulateMedia({ colorScheme: 'light' });
}
