// The app around the room, end to end against the real server: sign-in through the dev link for
// three browser contexts, create a league, invite + join, watch link → spectator, asset
// selection, create the auction (the room takes over there), the invite after the auction began,
// wrong codes, profile, help, 404, sign out. Every page gets an axe check and screenshots at
// 360×740 and 1280×800 (web/test-results/screens/app-*.png).
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiAs, axeClean, signIn, type ApiUser } from './helpers';
import { startServer, type RunningServer } from './server';

const here = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(here, '..', 'test-results', 'screens');
mkdirSync(SHOTS, { recursive: true });

test.describe.configure({ mode: 'serial' });

let srv: RunningServer;
const contexts: BrowserContext[] = [];
test.beforeAll(async () => {
  srv = await startServer();
});
test.afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await srv?.stop();
});

async function newPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 });
  contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => {
    throw new Error('page error: ' + e.message);
  });
  return page;
}

/** Screenshots of the current state at 360×740 and 1280×800 (full page), then back. */
async function shoot(page: Page, name: string): Promise<void> {
  const vp = page.viewportSize();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize({ width: 360, height: 740 });
  // Nothing may scroll sideways on a phone.
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth), { message: `${name} fits 360 px` }).toBeLessThanOrEqual(360);
  await page.screenshot({ path: join(SHOTS, `app-${name}-360.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(SHOTS, `app-${name}-1280.png`), fullPage: true });
  if (vp) await page.setViewportSize(vp);
}

async function check(page: Page, name: string): Promise<void> {
  await axeClean(page, name);
  await shoot(page, name);
}

let alice: Page;
let bob: Page;
let carol: Page;
let aliceApi: ApiUser;
let leagueId = '';
let inviteUrl = '';
let watchUrl = '';

test('sign-in page, check-your-mail and the dev link', async ({ browser }) => {
  alice = await newPage(browser);
  await alice.goto(srv.url + '/');
  // Not signed in: sent to sign-in, remembering where the user was going.
  await expect(alice).toHaveURL(/\/signin\?next=%2F/);
  await expect(alice.getByRole('heading', { name: 'Sign in to Gavel' })).toBeVisible();
  await check(alice, 'signin');

  await alice.getByRole('button', { name: 'Send sign-in link' }).click();
  await expect(alice.getByText('Enter your e-mail address')).toBeVisible();
  await alice.getByLabel('Email address').fill('alice@example.com');
  await alice.getByRole('button', { name: 'Send sign-in link' }).click();
  await expect(alice.getByRole('heading', { name: 'Check your mail' })).toBeVisible();
  await expect(alice.getByLabel('Sign-in code')).toBeFocused();
  await check(alice, 'signin-sent');

  // A wrong code is refused with a sentence, not a code.
  await alice.getByLabel('Sign-in code').fill('ZZZZ-ZZZZ');
  await alice.getByRole('button', { name: 'Sign in with code' }).click();
  await expect(alice.getByText(/not right|codes do not work/)).toBeVisible();

  await alice.getByRole('link', { name: 'Open the sign-in link' }).click();
  await expect(alice.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  await expect(alice.getByText('No leagues yet')).toBeVisible();
  await check(alice, 'leagues-empty');
});

test('a used sign-in link explains itself and offers a new one', async ({ browser }) => {
  const page = await newPage(browser);
  const r = await fetch(srv.url + '/api/auth/magic-link', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: 'used@example.com' }),
  });
  const { devLink } = (await r.json()) as { devLink: string };
  const path = new URL(devLink).pathname + new URL(devLink).search;
  await page.goto(srv.url + path);
  await expect(page.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  await page.evaluate(() => localStorage.clear());
  await page.goto(srv.url + path);
  await expect(page.getByRole('heading', { name: 'This link did not work' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Get a new sign-in link' })).toBeVisible();
  await check(page, 'signin-link-used');
});

test('the sign-in code signs in when the server offers one', async ({ browser }) => {
  const page = await newPage(browser);
  await page.goto(srv.url + '/signin?next=%2Fhelp');
  await page.getByLabel('Email address').fill('coder@example.com');
  await page.getByRole('button', { name: 'Send sign-in link' }).click();
  await expect(page.getByRole('heading', { name: 'Check your mail' })).toBeVisible();
  const code = await page.locator('.notice strong.tabular').textContent().catch(() => null);
  test.skip(!code, 'the server does not return devCode yet');
  await page.getByLabel('Sign-in code').fill(code!.toLowerCase());
  await page.getByRole('button', { name: 'Sign in with code' }).click();
  await expect(page).toHaveURL(/\/help$/);
});

test('create a league: field errors, then the league page', async () => {
  aliceApi = await apiAs(srv.url, 'alice@example.com');
  await aliceApi.call('PATCH', '/api/me', { name: 'Alice' });
  await alice.reload();
  await alice.getByRole('link', { name: 'New league' }).first().click();
  await expect(alice.getByRole('heading', { name: 'New league' })).toBeVisible();
  await expect(alice.getByLabel('Competition')).not.toHaveValue('');
  await check(alice, 'league-new');

  // Client-side checks name the field.
  await alice.getByLabel('Clock per lot (seconds)').fill('2');
  await alice.getByLabel(/Budget per manager/).fill('lots');
  await alice.getByRole('button', { name: 'Create league' }).click();
  await expect(alice.getByText('Give the league a name of 1 to 60 characters.')).toBeVisible();
  await expect(alice.getByText('Enter a whole number from 5 to 600.')).toBeVisible();
  await expect(alice.getByText(/Enter an amount like 500m/)).toBeVisible();
  await expect(alice.getByLabel('League name')).toBeFocused();
  await check(alice, 'league-new-errors');

  await alice.getByLabel('League name').fill('Friday Night Auction');
  await alice.getByLabel('Competition').selectOption('EPL-2025');
  await alice.getByLabel('Clock per lot (seconds)').fill('30');
  await alice.getByLabel(/Budget per manager/).fill('£200m');
  await expect(alice.getByText('£200,000,000')).toBeVisible();
  await alice.getByLabel('Order of lots').selectOption('fixed');
  await alice.getByRole('button', { name: 'Create league' }).click();
  await expect(alice.getByRole('heading', { name: 'Friday Night Auction' })).toBeVisible();
  await expect(alice.getByText('Your league is ready.')).toBeVisible();
  leagueId = decodeURIComponent(new URL(alice.url()).pathname.split('/')[2]);
  const league = await aliceApi.call('GET', `/api/leagues/${leagueId}`);
  expect(league.settings).toMatchObject({ budget: 200_000_000, lotOrder: 'fixed', lotSeconds: 30, rosterSize: 3 });
  inviteUrl = (await alice.locator('.link-box code').nth(0).textContent())!;
  watchUrl = (await alice.locator('.link-box code').nth(1).textContent())!;
  expect(inviteUrl).toContain('/invite/' + league.inviteCode);
  expect(watchUrl).toContain('/watch/' + league.watchCode);
  await expect(alice.getByRole('button', { name: 'Create the auction room' })).toBeDisabled();
  await check(alice, 'league-setup');
});

test('a manager joins by invite link after a preview', async ({ browser }) => {
  bob = await newPage(browser);
  await bob.goto(inviteUrl);
  // Signed out: sign-in first, then straight back to the invite.
  await expect(bob).toHaveURL(/\/signin\?next=%2Finvite%2F/);
  await bob.getByLabel('Email address').fill('bob@example.com');
  await bob.getByRole('button', { name: 'Send sign-in link' }).click();
  await bob.getByRole('link', { name: 'Open the sign-in link' }).click();
  await expect(bob.getByRole('heading', { name: 'Friday Night Auction' })).toBeVisible();
  await expect(bob.getByText('You are invited to')).toBeVisible();
  await expect(bob.getByText('1 of 8')).toBeVisible();
  await check(bob, 'invite-preview');
  await bob.getByRole('button', { name: 'Join as a manager' }).click();
  await expect(bob).toHaveURL(new RegExp(`/leagues/${leagueId}$`));
  await expect(bob.getByRole('heading', { name: 'Friday Night Auction' })).toBeVisible();
  await expect(bob.getByRole('heading', { name: 'Leave league' })).toBeVisible();
  await check(bob, 'league-manager');
  const members = await aliceApi.call('GET', `/api/leagues/${leagueId}/members`);
  expect(members.items.map((m: any) => m.role).sort()).toEqual(['commissioner', 'manager']);
});

test('the watch link makes a spectator', async ({ browser }) => {
  carol = await newPage(browser);
  await signIn(carol, srv.url, 'carol@example.com', 'Carol');
  await carol.goto(watchUrl);
  await expect(carol).toHaveURL(new RegExp(`/leagues/${leagueId}$`));
  await expect(carol.getByText('Spectator', { exact: true }).first()).toBeVisible();
  const all = await aliceApi.call('GET', `/api/leagues/${leagueId}/members?role=all`);
  expect(all.items.find((m: any) => m.name === 'Carol')?.role).toBe('spectator');
  // The commissioner sees the spectator listed apart from the managers.
  await alice.reload();
  await expect(alice.getByRole('heading', { name: 'Spectators (1)' })).toBeVisible();
});

test('the commissioner selects and orders assets', async () => {
  const picker = alice.locator('.picker');
  await expect(picker.getByRole('list', { name: 'Selected assets' }).getByRole('listitem')).toHaveCount(20);
  await picker.getByRole('button', { name: 'Clear' }).click();
  await expect(picker.getByText('Nothing selected yet.')).toBeVisible();
  await picker.getByRole('button', { name: 'Save selection' }).click();
  await expect(picker.getByText(/Choose at least 3/)).toBeVisible();
  await alice.getByLabel('Search teams').fill('united');
  await expect(picker.getByRole('button', { name: 'Add Manchester United FC' })).toBeVisible();
  await picker.getByRole('button', { name: 'Add Manchester United FC' }).click();
  await picker.getByRole('button', { name: 'Add Newcastle United FC' }).click();
  await alice.getByLabel('Search teams').fill('arsenal');
  await picker.getByRole('button', { name: 'Add Arsenal FC' }).click();
  await alice.getByLabel('Search teams').fill('');
  await picker.getByRole('button', { name: 'Add Chelsea FC' }).click();
  await picker.getByRole('button', { name: 'Move Arsenal FC up' }).click();
  await picker.getByRole('button', { name: 'Move Arsenal FC up' }).click();
  await picker.getByRole('button', { name: 'Save selection' }).click();
  await expect(picker.getByText('Saved: 4 teams will be auctioned.')).toBeVisible();
  const assets = await aliceApi.call('GET', `/api/leagues/${leagueId}/assets`);
  expect(assets.items.map((a: any) => a.name)).toEqual(['Arsenal FC', 'Manchester United FC', 'Newcastle United FC', 'Chelsea FC']);
  await check(alice, 'league-assets');
});

test('the commissioner edits settings before the auction', async () => {
  await alice.getByRole('link', { name: 'Edit settings' }).click();
  await expect(alice.getByRole('heading', { name: 'League settings' })).toBeVisible();
  await expect(alice.getByLabel(/Budget per manager/)).toHaveValue('200m');
  await expect(alice.getByLabel('Sport')).toBeDisabled();
  await check(alice, 'league-edit');
  await alice.getByLabel('Clock per lot (seconds)').fill('45');
  await alice.getByRole('button', { name: 'Save settings' }).click();
  await expect(alice.getByRole('heading', { name: 'Friday Night Auction' })).toBeVisible();
  await expect(alice.getByText('45 s')).toBeVisible();
  const league = await aliceApi.call('GET', `/api/leagues/${leagueId}`);
  expect(league.settings).toMatchObject({ lotSeconds: 45, budget: 200_000_000, lotOrder: 'fixed' });
});

test('my leagues shows each role and status', async () => {
  await bob.goto(srv.url + '/');
  await expect(bob.getByRole('link', { name: 'Friday Night Auction', exact: true })).toBeVisible();
  await expect(bob.getByText('Setting up')).toBeVisible();
  await check(bob, 'leagues');
});

test('create the auction: the room takes over, and everyone sees the lobby', async () => {
  await alice.reload();
  const create = alice.getByRole('button', { name: 'Create the auction room' });
  await expect(create).toBeEnabled();
  await create.click();
  await expect(alice).toHaveURL(/\/auctions\/[^/]+$/);
  const auctionId = new URL(alice.url()).pathname.split('/')[2];
  const st = await aliceApi.call('GET', `/api/leagues/${leagueId}/auction`);
  expect(st.id).toBe(auctionId);
  expect(st.status).toBe('waiting');

  await bob.reload();
  const enter = bob.getByRole('link', { name: 'Enter the lobby: Friday Night Auction' });
  await expect(enter).toBeVisible();
  await expect(bob.getByText('Lobby open')).toBeVisible();
  await check(bob, 'leagues-lobby');
  await enter.click();
  await expect(bob).toHaveURL(new RegExp(`/auctions/${auctionId}$`));

  // The watch link now leads a spectator into the room — when the server names the league in
  // its answer (a newcomer's league is found by the app itself; see the next test).
  const carolApi = await apiAs(srv.url, 'carol@example.com');
  const answer = await carolApi.call('POST', '/api/watch/' + watchUrl.split('/watch/')[1]);
  await carol.goto(watchUrl);
  if (answer.leagueId) await expect(carol).toHaveURL(new RegExp(`/auctions/${auctionId}$`));
  else await expect(carol.getByText('You already follow that league')).toBeVisible();

  // The league page of a league with an auction: locked selection, the way into the room.
  await alice.goto(`${srv.url}/leagues/${leagueId}`);
  await expect(alice.getByRole('link', { name: 'Enter the lobby' })).toBeVisible();
  await expect(alice.getByText('The selection is locked because the auction exists.')).toBeVisible();
  await check(alice, 'league-auction');
});

test('an invite after the auction began offers the watch link instead', async ({ browser }) => {
  const dave = await newPage(browser);
  await signIn(dave, srv.url, 'dave@example.com', 'Dave');
  await dave.goto(inviteUrl);
  await expect(dave.getByText('The auction has already begun')).toBeVisible();
  await expect(dave.getByText(/ask Alice for the league’s watch link/)).toBeVisible();
  await expect(dave.getByRole('button', { name: 'Join as a manager' })).toHaveCount(0);
  await check(dave, 'invite-started');

  await dave.goto(srv.url + '/invite/WRONGCODE23');
  await expect(dave.getByRole('heading', { name: 'This invite link does not work' })).toBeVisible();
  await check(dave, 'invite-wrong');
  await dave.goto(srv.url + '/watch/WRONGCODE23');
  await expect(dave.getByRole('heading', { name: 'This watch link does not work' })).toBeVisible();
  // A newcomer's watch link leads into the live room.
  await dave.goto(watchUrl);
  await expect(dave).toHaveURL(/\/auctions\/[^/]+$/);
});

test('a full league says so', async ({ browser }) => {
  const owner = await apiAs(srv.url, 'owner@example.com');
  const l = await owner.call('POST', '/api/leagues', { name: 'Tiny', sport: 'cricket', competition: 'ASHES-2025', minManagers: 1, maxManagers: 1 });
  const page = await newPage(browser);
  await signIn(page, srv.url, 'erin@example.com');
  await page.goto(`${srv.url}/invite/${l.inviteCode}`);
  await expect(page.getByText('This league is full')).toBeVisible();
});

test('profile, help, 404 and sign out', async () => {
  await bob.goto(srv.url + '/profile');
  await expect(bob.getByRole('heading', { name: 'Profile' })).toBeVisible();
  await bob.getByLabel('Display name').fill('B');
  await bob.getByRole('button', { name: 'Save name' }).click();
  await expect(bob.getByText('Use 2 to 30 characters.')).toBeVisible();
  await bob.getByLabel('Display name').fill('Bob the Bidder');
  await bob.getByRole('button', { name: 'Save name' }).click();
  await expect(bob.getByText('Saved. Everyone sees this name in the room.')).toBeVisible();
  await check(bob, 'profile');

  await bob.getByRole('link', { name: 'Help' }).click();
  await expect(bob.getByRole('heading', { name: 'How Gavel works' })).toBeVisible();
  await check(bob, 'help');

  await bob.goto(srv.url + '/no/such/page');
  await expect(bob.getByRole('heading', { name: 'There is nothing at this address' })).toBeVisible();
  await check(bob, 'not-found');

  await bob.goto(srv.url + '/leagues/lg_doesnotexist');
  await expect(bob.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(bob.locator('body')).not.toContainText('{"error"');

  await bob.goto(srv.url + '/profile');
  await bob.getByRole('button', { name: 'Sign out' }).click();
  await expect(bob.getByRole('heading', { name: 'Sign in to Gavel' })).toBeVisible();
  await bob.goto(srv.url + '/');
  await expect(bob).toHaveURL(/\/signin/);
});

test('a session whose refresh fails goes to sign-in and comes back', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, srv.url, 'frank@example.com', 'Frank');
  // Expire the access token locally and break the refresh token: the next call must send the
  // user to sign-in with `next`, and signing in again must return there.
  await page.evaluate(() => {
    const t = JSON.parse(localStorage.getItem('gavel.tokens')!);
    localStorage.setItem('gavel.tokens', JSON.stringify({ ...t, expiresAtMs: 0, refreshToken: 'revoked' }));
  });
  await page.goto(srv.url + '/profile');
  await expect(page).toHaveURL(/\/signin\?next=%2Fprofile/);
  await page.getByLabel('Email address').fill('frank@example.com');
  await page.getByRole('button', { name: 'Send sign-in link' }).click();
  await page.getByRole('link', { name: 'Open the sign-in link' }).click();
  await expect(page).toHaveURL(/\/profile$/);
});

test('an access token is refreshed silently', async ({ browser }) => {
  const page = await newPage(browser);
  await signIn(page, srv.url, 'gina@example.com', 'Gina');
  const before = await page.evaluate(() => JSON.parse(localStorage.getItem('gavel.tokens')!).refreshToken);
  await page.evaluate(() => {
    const t = JSON.parse(localStorage.getItem('gavel.tokens')!);
    localStorage.setItem('gavel.tokens', JSON.stringify({ ...t, expiresAtMs: Date.now() + 5_000 }));
  });
  await page.goto(srv.url + '/profile');
  await expect(page.getByLabel('Display name')).toHaveValue('Gina');
  await page.getByLabel('Display name').fill('Gina R');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  const after = await page.evaluate(() => JSON.parse(localStorage.getItem('gavel.tokens')!).refreshToken);
  expect(after).not.toBe(before);
  await expect(page).toHaveURL(/\/profile$/);
});

test('the commissioner removes a member, then deletes the league', async ({ browser }) => {
  const owner = await apiAs(srv.url, 'olga@example.com');
  const l = await owner.call('POST', '/api/leagues', { name: 'Spare League', sport: 'football', competition: 'UCL-2025' });
  const hank = await apiAs(srv.url, 'hank@example.com');
  await hank.call('PATCH', '/api/me', { name: 'Hank' });
  await hank.call('POST', `/api/invites/${l.inviteCode}/join`);
  const page = await newPage(browser);
  await signIn(page, srv.url, 'olga@example.com', 'Olga');
  await page.goto(`${srv.url}/leagues/${l.id}`);
  await page.getByRole('button', { name: 'Remove Hank' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: 'Remove Hank?' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByRole('button', { name: 'Remove Hank' })).toHaveCount(0);
  const members = await owner.call('GET', `/api/leagues/${l.id}/members`);
  expect(members.items).toHaveLength(1);

  // A new invite link: the old one stops working at once.
  const oldInvite = (await page.locator('.link-box code').nth(0).textContent())!;
  await page.getByRole('button', { name: 'New link' }).first().click();
  await expect(dialog.getByRole('heading', { name: 'Make a new invite link?' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Make a new link' }).click();
  await expect(page.locator('.link-box code').nth(0)).not.toHaveText(oldInvite);
  const newInvite = (await page.locator('.link-box code').nth(0).textContent())!;

  // A manager who joined with the new link leaves by themselves.
  const ivan = await newPage(browser);
  await signIn(ivan, srv.url, 'ivan@example.com', 'Ivan');
  await ivan.goto(oldInvite);
  await expect(ivan.getByRole('heading', { name: 'This invite link does not work' })).toBeVisible();
  await ivan.goto(newInvite);
  await ivan.getByRole('button', { name: 'Join as a manager' }).click();
  await ivan.getByRole('button', { name: 'Leave league…' }).click();
  await ivan.getByRole('dialog').getByRole('button', { name: 'Leave league' }).click();
  await expect(ivan.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  await expect(ivan.getByText('Spare League')).toHaveCount(0);

  await page.getByRole('button', { name: 'Delete league…' }).click();
  await expect(dialog.getByRole('heading', { name: 'Delete “Spare League”?' })).toBeVisible();
  await expect(dialog).toContainText('cannot be undone');
  await check(page, 'league-delete-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: 'Delete league…' }).click();
  await dialog.getByRole('button', { name: 'Delete league forever' }).click();
  await expect(page.getByRole('heading', { name: 'Your leagues' })).toBeVisible();
  await expect(page.getByText('Spare League')).toHaveCount(0);
});
